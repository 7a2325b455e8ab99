# The seed's fusion-solver suite in Julia: one right-hand side per system of
# scjax.adaptive.SYSTEMS, integrated by OrdinaryDiffEq with ContinuousCallback events.
#
# Used two ways:
#   julia --project=reference/julia reference/julia/fusion_solver.jl 1000   # timing table
#   from Python: scjax.backends.julia loads this file once into a juliacall session and
#   calls FusionSolver.solve_system(...) with arrays in, arrays out (no stdout parsing).
#
# Conventions (identical to scjax): t in ms; parameters as a Float64 vector in the model's
# `param_names` order; the current is piecewise constant (sample k holds over
# [t0 + k*dt, t0 + (k+1)*dt)), with integration stopped at every sample boundary (tstops).

module FusionSolver

using OrdinaryDiffEq

export solve_system, SYSTEM_NAMES, main

const SYSTEM_NAMES = ["lif", "izhikevich", "hodgkin_huxley", "sc_equilibrium",
    "fitzhugh_nagumo", "adex", "morris_lecar", "gamma_oscillation", "biolek_memristor",
    "kuramoto", "predictive_coding", "homeostasis", "lindblad", "stdp"]

sigmoid(x) = 1 / (1 + exp(-x))
exprel(z) = abs(z) < 1e-6 ? 1 + z / 2 + z^2 / 6 : expm1(z) / z

# Piecewise-constant input: sample k (1-based k+1) over [t0 + k dt, t0 + (k+1) dt).
struct Drive
    trace::Vector{Float64}
    t0::Float64
    dt::Float64
end
(d::Drive)(t) = d.trace[clamp(floor(Int, (t - d.t0) / d.dt) + 1, 1, length(d.trace))]

# ---- right-hand sides: rhs!(du, u, (p, arrays, I), t) ----------------------------------

function lif!(du, u, q, t)
    p, _, I = q
    tau, vrest, _, _, rm = p
    du[1] = (-(u[1] - vrest) + rm * I(t)) / tau
end

function izhikevich!(du, u, q, t)
    p, _, I = q
    a, b = p[1], p[2]
    du[1] = 0.04 * u[1]^2 + 5 * u[1] + 140 - u[2] + I(t)
    du[2] = a * (b * u[1] - u[2])
end

function adex!(du, u, q, t)
    p, _, I = q
    c, gl, el, vt, dT, tauw, a, _, _, vpeak = p
    v = min(u[1], vpeak)
    arg = min((v - vt) / dT, 30.0)
    du[1] = (-gl * (v - el) + gl * dT * exp(arg) - u[2] + I(t)) / c
    du[2] = (a * (v - el) - u[2]) / tauw
end

function hodgkin_huxley!(du, u, q, t)
    p, _, I = q
    cm, gna, gk, gl, ena, ek, el = p[1:7]
    v, m, h, n = u
    am = 1 / exprel(-(v + 40) / 10); bm = 4 * exp(-(v + 65) / 18)
    ah = 0.07 * exp(-(v + 65) / 20); bh = 1 / (1 + exp(-(v + 35) / 10))
    an = 0.1 / exprel(-(v + 55) / 10); bn = 0.125 * exp(-(v + 65) / 80)
    du[1] = (I(t) - gna * m^3 * h * (v - ena) - gk * n^4 * (v - ek) - gl * (v - el)) / cm
    du[2] = am * (1 - m) - bm * m
    du[3] = ah * (1 - h) - bh * h
    du[4] = an * (1 - n) - bn * n
end

function fitzhugh_nagumo!(du, u, q, t)
    p, _, I = q
    tauw, a, b = p[1], p[2], p[3]
    du[1] = u[1] - u[1]^3 / 3 - u[2] + I(t)
    du[2] = (u[1] + a - b * u[2]) / tauw
end

function morris_lecar!(du, u, q, t)
    p, _, I = q
    c, gl, gca, gk, vl, vca, vk, v1, v2, v3, v4, phi = p[1:12]
    v, w = u
    minf = 0.5 * (1 + tanh((v - v1) / v2)); winf = 0.5 * (1 + tanh((v - v3) / v4))
    du[1] = (I(t) - gl * (v - vl) - gca * minf * (v - vca) - gk * w * (v - vk)) / c
    du[2] = phi * (winf - w) * cosh((v - v3) / (2 * v4))
end

function sc_equilibrium!(du, u, q, t)
    p, _, I = q
    du[1] = (p[1] + I(t) - u[1]) / (p[2] * p[3])
end

function gamma_oscillation!(du, u, q, t)
    p, _, I = q
    te, ti, wee, wei, wie, wii, pe, pi_ = p
    du[1] = (-u[1] + sigmoid(wee * u[1] - wei * u[2] + pe + I(t))) / te
    du[2] = (-u[2] + sigmoid(wie * u[1] - wii * u[2] + pi_)) / ti
end

function biolek_memristor!(du, u, q, t)
    p, _, I = q
    ron, roff, d, muv, pw, vamp, freq = p[1:7]
    x = u[1]
    i = (vamp * sin(2pi * freq * t * 1e-3) + I(t)) / (ron * x + roff * (1 - x))
    stp = i <= 0 ? 1.0 : 0.0
    du[1] = muv * ron / d^2 * 1e-3 * i * (1 - ((x - stp)^2)^pw)
end

function kuramoto!(du, u, q, t)
    p, arr, I = q
    K, wmean, wstd = p
    z = arr["z_omega"]
    s = sum(sin, u) / length(u); c = sum(cos, u) / length(u)
    @inbounds for i in eachindex(u)
        du[i] = wmean + wstd * z[i] + K * (s * cos(u[i]) - c * sin(u[i])) + I(t)
    end
end

function predictive_coding!(du, u, q, t)
    p, arr, I = q
    tau, s0, s1, alpha = p
    U1, U2, s = arr["u1"], arr["u2"], arr["stimulus"]
    n1 = size(U1, 2)
    r1 = u[1:n1]; r2 = u[n1+1:end]
    p1 = sigmoid.(U1 * r1); p2 = sigmoid.(U2 * r2)
    e0 = s .+ I(t) .- p1; e1 = r1 .- p2
    du[1:n1] .= (U1' * (p1 .* (1 .- p1) .* e0) ./ s0 .- e1 ./ s1 .- alpha .* r1) ./ tau
    du[n1+1:end] .= (U2' * (p2 .* (1 .- p2) .* e1) ./ s1 .- alpha .* r2) ./ tau
end

function homeostasis!(du, u, q, t)
    p, _, I = q
    taur, rmax, slope, theta0, rtarget, kp, ki = p
    e = u[1] - rtarget
    theta = theta0 + kp * e + ki * u[2]
    du[1] = (-u[1] + rmax * sigmoid((I(t) - theta) / slope)) / taur
    du[2] = e
end

function lindblad!(du, u, q, t)
    p, _, I = q
    delta, omega, gamma = p
    rho = permutedims(reshape(complex.(u[1:4], u[5:8]), 2, 2))  # row-major (numpy) → Julia
    sz = ComplexF64[1 0; 0 -1]; sx = ComplexF64[0 1; 1 0]
    H = 0.5 * delta * sz + 0.5 * (omega + I(t)) * sx
    d = -im * (H * rho - rho * H) + gamma * (sz * rho * sz - rho)
    flat = vec(permutedims(d))                        # back to row-major order
    du[1:4] .= real.(flat); du[5:8] .= imag.(flat)
end

function stdp!(du, u, q, t)
    p, arr, I = q
    ap, am, tp, tm, rate, wmax = p[1:6]
    lags = arr["lags"]
    @inbounds for k in eachindex(u)
        w = lags[k] > 0 ? ap * exp(-lags[k] / tp) : -am * exp(lags[k] / tm)
        du[k] = rate * (1 + I(t)) * (max(w, 0) * (wmax - u[k]) - max(-w, 0) * u[k])
    end
end

const RHS = Dict("lif" => lif!, "izhikevich" => izhikevich!, "adex" => adex!,
    "hodgkin_huxley" => hodgkin_huxley!, "fitzhugh_nagumo" => fitzhugh_nagumo!,
    "morris_lecar" => morris_lecar!, "sc_equilibrium" => sc_equilibrium!,
    "gamma_oscillation" => gamma_oscillation!, "biolek_memristor" => biolek_memristor!,
    "kuramoto" => kuramoto!, "predictive_coding" => predictive_coding!,
    "homeostasis" => homeostasis!, "lindblad" => lindblad!, "stdp" => stdp!)

# Spike rules: (state index, threshold parameter index, reset!) — reset! === nothing for
# crossing models (HH, FHN, ML), which only record upward crossings.
reset_lif!(u, p) = (u[1] = p[4])
reset_izh!(u, p) = (u[1] = p[3]; u[2] += p[4])
reset_adex!(u, p) = (u[1] = p[9]; u[2] += p[8])
const SPIKES = Dict("lif" => (1, 3, reset_lif!), "izhikevich" => (1, 5, reset_izh!),
    "adex" => (1, 10, reset_adex!), "hodgkin_huxley" => (1, 8, nothing),
    "fitzhugh_nagumo" => (1, 4, nothing), "morris_lecar" => (1, 13, nothing))

"""
    solve_system(name, p, arrays, u0, tspan, trace, current_dt; alg, saveat, reltol, abstol)

Integrate system `name` with parameter vector `p` (scjax `param_names` order), array
parameters `arrays` (Dict of name => Array), initial state `u0`, over `tspan` (ms), driven
by the piecewise-constant `trace` (sample spacing `current_dt`). Returns
`(t, u, spike_times)` with `u` of size (length(t), n_state), sampled every `saveat`.
"""
function solve_system(name::AbstractString, p::AbstractVector, arrays::AbstractDict,
        u0::AbstractVector, tspan::Tuple, trace::AbstractVector, current_dt::Real;
        alg = Tsit5(), saveat::Real = 0.1, reltol::Real = 1e-8, abstol::Real = 1e-10)
    haskey(RHS, name) || throw(ArgumentError("unknown system $name; known: $SYSTEM_NAMES"))
    pv = Vector{Float64}(p)
    arr = Dict{String, Any}(String(k) => Array{Float64}(v) for (k, v) in arrays)
    drive = Drive(Vector{Float64}(trace), Float64(tspan[1]), Float64(current_dt))
    tstops = [drive.t0 + k * drive.dt for k in 1:length(trace)-1 if trace[k+1] != trace[k]]
    prob = ODEProblem(RHS[name], Vector{Float64}(u0), (Float64(tspan[1]), Float64(tspan[2])),
        (pv, arr, drive))
    spikes = Float64[]
    cb = nothing
    if haskey(SPIKES, name)
        idx, thr_i, reset! = SPIKES[name]
        thr = pv[thr_i]
        condition = (u, t, integrator) -> u[idx] - thr
        affect! = integrator -> begin
            push!(spikes, integrator.t)
            reset! === nothing || reset!(integrator.u, pv)
        end
        # Upward crossings only (affect_neg! = nothing); event points are not saved, so the
        # output stays on the saveat grid.
        cb = ContinuousCallback(condition, affect!, nothing; save_positions = (false, false))
    end
    sol = solve(prob, alg; saveat = saveat, reltol = reltol, abstol = abstol, callback = cb,
        tstops = tstops, maxiters = 10^8)
    Symbol(sol.retcode) in (:Success, :Terminated) || error("solve failed for $name: $(sol.retcode)")
    return sol.t, permutedims(reduce(hcat, sol.u)), spikes
end

# ---- the timing table: `julia fusion_solver.jl 1000` ----------------------------------

# Defaults identical to scjax's model defaults (param_names order) and suite currents.
const DEFAULTS = Dict(
    "lif" => ([20.0, -65.0, -50.0, -65.0, 1.0], [-65.0], 14.9),
    "izhikevich" => ([0.02, 0.2, -65.0, 8.0, 30.0], [-65.0, -13.0], 10.0),
    "hodgkin_huxley" => ([1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 0.0],
        [-65.0, 0.052932, 0.596121, 0.317677], 10.0),
    "sc_equilibrium" => ([0.3, 256.0, 0.1, 0.0], [0.0], 0.0),
    "fitzhugh_nagumo" => ([12.5, 0.7, 0.8, 1.0], [-1.199408035, -0.624260044], 0.5),
    "adex" => ([281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 80.5, -70.6, 20.0],
        [-70.6, 0.0], 800.0),
    "morris_lecar" => ([20.0, 2.0, 4.4, 8.0, -60.0, 120.0, -84.0, -1.2, 18.0, 2.0, 30.0,
        0.04, 0.0], [-60.0, 0.0], 100.0),
    "gamma_oscillation" => ([2.0, 4.0, 12.0, 10.0, 10.0, 2.0, -2.0, -4.0], [0.1, 0.05], 0.0),
    "biolek_memristor" => ([100.0, 16e3, 10e-9, 1e-13, 1.0, 1.2, 10.0, 0.1], [0.1], 0.0),
    "homeostasis" => ([10.0, 100.0, 2.0, 5.0, 10.0, 0.05, 0.001], [0.0, 0.0], 10.0),
    "lindblad" => ([0.5, 1.0, 0.02], [1.0, 0, 0, 0, 0, 0, 0, 0], 0.0),
    "stdp" => ([0.777, 0.273, 16.8, 33.7, 0.001, 1.0, 0.5], fill(0.5, 16), 0.0),
)

function default_arrays(name)
    # Array parameters come from Python (numpy's default_rng draws); for the stand-alone
    # table, Kuramoto and predictive coding use Julia draws of the same distributions.
    name == "stdp" && return Dict("lags" => collect(-75.0:10.0:75.0))
    if name == "kuramoto"
        return Dict("z_omega" => randn(64))
    elseif name == "predictive_coding"
        U1 = randn(8, 4); U2 = randn(4, 2)
        return Dict("u1" => U1, "u2" => U2, "stimulus" => sigmoid.(U1 * sigmoid.(U2 * randn(2))))
    end
    return Dict{String, Any}()
end

function default_problem(name)
    if name == "kuramoto"
        return [0.03, 2pi * 0.01, 0.01], rand(64) .* 2pi, 0.0
    elseif name == "predictive_coding"
        return [10.0, 1.0, 1.0, 0.05], zeros(6), 0.0
    end
    return DEFAULTS[name]
end

function main(args = ARGS)
    steps = isempty(args) ? 1000 : parse(Int, args[1])
    t_suite = time()
    println(rpad("system", 20), "  ms/solve (warm median)   cold s")
    for name in SYSTEM_NAMES
        p, u0, I = default_problem(name)
        arr = default_arrays(name)
        tspan = (0.0, steps * 0.1)
        t = time(); solve_system(name, p, arr, u0, tspan, [I], 0.1); cold = time() - t
        times = Float64[]
        for _ in 1:20
            t = time_ns(); solve_system(name, p, arr, u0, tspan, [I], 0.1)
            push!(times, (time_ns() - t) / 1e6)
        end
        sort!(times)
        println(rpad(name, 20), lpad(round(times[10], digits = 3), 12), lpad(round(cold, digits = 2), 16))
    end
    println("suite (cold, all) ", round(time() - t_suite, digits = 2), " s")
end

end # module

if abspath(PROGRAM_FILE) == @__FILE__
    FusionSolver.main()
end
