# Population-batched solves of the fusion-solver systems: one EnsembleProblem per system,
# one trajectory per parameter column. Loaded after fusion_solver.jl (it reuses its RHS,
# SPIKES and Drive), e.g. by scjax.backends.julia.solve_population.

module NeuronZoo

using OrdinaryDiffEq
using ..FusionSolver: RHS, SPIKES, Drive

export solve_population

"""
    solve_population(name, P, arrays, U0, tspan, trace, current_dt; alg, saveat, reltol,
                     abstol, threads=true)

`P` is (n_params, n_pop), `U0` is (n_state, n_pop). Returns `(t, U, spike_counts)` with `U`
of size (n_pop, length(t), n_state) and the spike count of each member.
"""
function solve_population(name::AbstractString, P::AbstractMatrix, arrays::AbstractDict,
        U0::AbstractMatrix, tspan::Tuple, trace::AbstractVector, current_dt::Real;
        alg = Tsit5(), saveat::Real = 0.1, reltol::Real = 1e-8, abstol::Real = 1e-10,
        threads::Bool = true)
    n_pop = size(P, 2)
    size(U0, 2) == n_pop || throw(ArgumentError("P and U0 must have the same number of columns"))
    arr = Dict{String, Any}(String(k) => Array{Float64}(v) for (k, v) in arrays)
    drive = Drive(Vector{Float64}(trace), Float64(tspan[1]), Float64(current_dt))
    tstops = [drive.t0 + k * drive.dt for k in 1:length(trace)-1 if trace[k+1] != trace[k]]
    counts = zeros(Int, n_pop)
    base = ODEProblem(RHS[name], Vector{Float64}(U0[:, 1]), (Float64(tspan[1]), Float64(tspan[2])),
        (Vector{Float64}(P[:, 1]), arr, drive))
    prob_func = (prob, i, repeat) -> remake(prob; u0 = Vector{Float64}(U0[:, i]),
        p = (Vector{Float64}(P[:, i]), arr, drive))
    cb = nothing
    if haskey(SPIKES, name)
        idx, thr_i, reset! = SPIKES[name]
        condition = (u, t, integrator) -> u[idx] - integrator.p[1][thr_i]
        affect! = integrator -> begin
            # The member index is not known inside the integrator: count via the parameter
            # tuple's identity is fragile, so spikes are counted after the solve instead.
            reset! === nothing || reset!(integrator.u, integrator.p[1])
        end
        cb = ContinuousCallback(condition, affect!, nothing; save_positions = (false, false))
    end
    ens = EnsembleProblem(base; prob_func = prob_func)
    sim = solve(ens, alg, threads ? EnsembleThreads() : EnsembleSerial(); trajectories = n_pop,
        saveat = saveat, reltol = reltol, abstol = abstol, callback = cb, tstops = tstops)
    t = sim[1].t
    U = zeros(n_pop, length(t), length(sim[1].u[1]))
    for i in 1:n_pop
        for (j, u) in enumerate(sim[i].u)
            U[i, j, :] .= u
        end
        if haskey(SPIKES, name)
            idx, thr_i, reset! = SPIKES[name]
            v = U[i, :, idx]; thr = P[thr_i, i]
            # Resetting models: a reset between samples shows as a drop; crossing models:
            # upward crossings of the saved trace. (Exact times: use FusionSolver.solve_system.)
            span = maximum(v) - minimum(v)
            # Crossing models: upward crossings of the saved trace; resetting models: a reset
            # shows as a drop of more than a quarter of the range between two samples.
            # (Exact spike times: FusionSolver.solve_system.)
            counts[i] = reset! === nothing ?
                count(k -> v[k] < thr && v[k+1] >= thr, 1:length(v)-1) :
                count(k -> v[k] - v[k+1] > 0.25 * span, 1:length(v)-1)
        end
    end
    return t, U, counts
end

end # module
