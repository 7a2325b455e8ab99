// scjax's Go parity library: the C ABI of native/include/scjax_native.h.
//
// An independent transcription of the fixed-step recurrences of scjax.simulate (float64),
// written from the header's conventions. Section and function order mirror
// native/rust/src/lib.rs and native/mojo/scjax.mojo, so the three read side by side.
// Every arithmetic expression keeps the operation order of scjax's Python code and exp /
// expm1 are libm's (called through cgo), so trajectories agree with JAX to rounding.
//
// Build: go build -buildmode=c-shared -o libscjax_go.so . (native/build.sh sets GOAMD64=v1:
// Go may fuse x*y+z into one FMA on targets that have it, which would round differently).
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: -lm
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// One cgo crossing costs more than a libm call, so the Hodgkin-Huxley rates get all their
// exponentials in one, by value (no Go memory crosses): exp of e[0..4), expm1 of e[4..6).
typedef struct { double e[6]; } scjax_six;
static scjax_six libm_exps(double a, double b, double c, double d, double m, double n) {
	scjax_six r = {{exp(a), exp(b), exp(c), exp(d), expm1(m), expm1(n)}};
	return r;
}
*/
import "C"

import (
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// ---------------------------------------------------------------------------------------------
// ABI constants (scjax_native.h)

const (
	abiVersion         = 1
	ok                 = 0
	errNullPointer     = 1
	errUnknownModel    = 2
	errUnknownIntegr   = 3
	errParamCount      = 4
	errInvalidArgument = 5
)

// maxSteps keeps (n_steps + 1) * n_state * 8 bytes far inside int64.
const maxSteps = int64(1) << 40

// maxState is the largest state size of any model (hodgkin_huxley).
const maxState = 4

// adexExpArgMax is the upper bound of AdEx's exponent (scjax.models._adex.ADEX_EXP_ARG_MAX).
const adexExpArgMax = 30.0

// exprelSmall: below this |z|, exprel uses its Taylor polynomial (scjax.models._base.exprel).
const exprelSmall = 1e-6

// cExp and cExpm1 are libm's, on purpose: the other two libraries call the same functions
// (Go's math.Exp is its own implementation and differs in the last bit).
func cExp(x float64) float64   { return float64(C.exp(C.double(x))) }
func cExpm1(x float64) float64 { return float64(C.expm1(C.double(x))) }

// cExps returns libm's exp of a, b, c, d and expm1 of m, n, in one cgo call.
func cExps(a, b, c, d, m, n float64) [6]float64 {
	r := C.libm_exps(C.double(a), C.double(b), C.double(c), C.double(d), C.double(m),
		C.double(n))
	return [6]float64{float64(r.e[0]), float64(r.e[1]), float64(r.e[2]), float64(r.e[3]),
		float64(r.e[4]), float64(r.e[5])}
}

// ---------------------------------------------------------------------------------------------
// Last error (process-wide, C memory so the pointer handed out stays valid)

const errorCapacity = 512

var (
	errorMu  sync.Mutex
	errorBuf *C.char
)

func fail(status int, message string) int {
	errorMu.Lock()
	defer errorMu.Unlock()
	if errorBuf == nil {
		errorBuf = (*C.char)(C.calloc(errorCapacity, 1))
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(errorBuf)), errorCapacity)
	n := 0
	for i := 0; i < len(message) && n < errorCapacity-1; i++ {
		if message[i] != 0 {
			buf[n] = message[i]
			n++
		}
	}
	buf[n] = 0
	return status
}

// ---------------------------------------------------------------------------------------------
// Models: names, sizes, default parameters

type model int

const (
	izhikevich model = iota
	hodgkinHuxley
	adex
)

type integrator int

const (
	euler integrator = iota
	halfEuler
	rk4
)

var izhikevichDefaults = []float64{0.02, 0.2, -65.0, 8.0, 30.0}
var hodgkinHuxleyDefaults = []float64{1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 0.0}
var adexDefaults = []float64{281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 80.5, -70.6, 20.0}

func modelFromName(name string) (model, bool) {
	switch name {
	case "izhikevich":
		return izhikevich, true
	case "hodgkin_huxley":
		return hodgkinHuxley, true
	case "adex":
		return adex, true
	}
	return 0, false
}

func integratorFromName(name string) (integrator, bool) {
	switch name {
	case "euler":
		return euler, true
	case "half_euler":
		return halfEuler, true
	case "rk4":
		return rk4, true
	}
	return 0, false
}

func stateSize(m model) int {
	switch m {
	case hodgkinHuxley:
		return 4
	default:
		return 2
	}
}

func defaultParams(m model) []float64 {
	switch m {
	case izhikevich:
		return izhikevichDefaults
	case hodgkinHuxley:
		return hodgkinHuxleyDefaults
	default:
		return adexDefaults
	}
}

func paramSize(m model) int { return len(defaultParams(m)) }

// ---------------------------------------------------------------------------------------------
// Right-hand sides f(y, I) (scjax.models.*.vector_field)
//
// The explicit float64(...) conversions are Go's documented way to forbid fusing a product
// and a sum into one FMA: each operation rounds as in the Python expression.

type state = [maxState]float64

// minimum is jnp.minimum: NaN propagates, so a diverged run stays NaN as in JAX.
func minimum(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	if a < b {
		return a
	}
	return b
}

func exprel(z float64) float64 {
	return exprelFrom(z, cExpm1(z))
}

// exprelFrom is exprel(z) given expm1(z) (computed in a batch by the caller).
func exprelFrom(z, expm1z float64) float64 {
	if math.Abs(z) < exprelSmall {
		return 1.0 + z/2.0 + float64(z*z)/6.0
	}
	return expm1z / z
}

func izhikevichRHS(p []float64, y *state, current float64) state {
	a, b := p[0], p[1]
	v, u := y[0], y[1]
	dv := float64(float64(0.04*v)*v) + float64(5.0*v) + 140.0 - u + current
	du := a * (float64(b*v) - u)
	return state{dv, du, 0, 0}
}

func hodgkinHuxleyRHS(p []float64, y *state, current float64) state {
	cM, gNa, gK, gL, eNa, eK, eL := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	v, m, h, n := y[0], y[1], y[2], y[3]
	iNa := gNa * m * m * m * h * (v - eNa)
	iK := gK * float64(n*n) * float64(n*n) * (v - eK)
	iL := gL * (v - eL)
	dv := (current - float64(iNa) - float64(iK) - float64(iL)) / cM
	zM, zN := -(v+40.0)/10.0, -(v+55.0)/10.0
	e := cExps(-(v+65.0)/18.0, -(v+65.0)/20.0, -(v+35.0)/10.0, -(v+65.0)/80.0, zM, zN)
	alphaM := 1.0 / exprelFrom(zM, e[4])
	betaM := 4.0 * e[0]
	alphaH := 0.07 * e[1]
	betaH := 1.0 / (1.0 + e[2])
	alphaN := 0.1 / exprelFrom(zN, e[5])
	betaN := 0.125 * e[3]
	dm := float64(alphaM*(1.0-m)) - float64(betaM*m)
	dh := float64(alphaH*(1.0-h)) - float64(betaH*h)
	dn := float64(alphaN*(1.0-n)) - float64(betaN*n)
	return state{dv, dm, dh, dn}
}

func adexRHS(p []float64, y *state, current float64) state {
	c, gL, eL, vT, deltaT, tauW, a := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	vPeak := p[9]
	// NEST's convention: the right-hand side sees V clamped at V_peak.
	v := minimum(y[0], vPeak)
	w := y[1]
	arg := minimum((v-vT)/deltaT, adexExpArgMax)
	dv := (float64(-gL*(v-eL)) + float64(float64(gL*deltaT)*cExp(arg)) - w + current) / c
	dw := (float64(a*(v-eL)) - w) / tauW
	return state{dv, dw, 0, 0}
}

func rhs(m model, p []float64, y *state, current float64) state {
	switch m {
	case izhikevich:
		return izhikevichRHS(p, y, current)
	case hodgkinHuxley:
		return hodgkinHuxleyRHS(p, y, current)
	default:
		return adexRHS(p, y, current)
	}
}

// ---------------------------------------------------------------------------------------------
// One step of each integrator (scjax.solvers)

func eulerStep(m model, p []float64, y0 *state, current, h float64, n int) state {
	f := rhs(m, p, y0, current)
	y1 := *y0
	for i := 0; i < n; i++ {
		y1[i] = y0[i] + float64(h*f[i])
	}
	return y1
}

func halfEulerStep(m model, p []float64, y0 *state, current, h float64, n int) state {
	// Component 0 (the membrane potential) is the fast one for every model.
	half := 0.5 * h
	y := *y0
	f := rhs(m, p, y0, current)
	y[0] = y0[0] + float64(half*f[0])
	f = rhs(m, p, &y, current)
	y[0] = y[0] + float64(half*f[0])
	f = rhs(m, p, &y, current)
	for i := 1; i < n; i++ {
		y[i] = y0[i] + float64(h*f[i])
	}
	return y
}

func rk4Step(m model, p []float64, y0 *state, current, h float64, n int) state {
	half := 0.5 * h
	stage := *y0
	k1 := rhs(m, p, y0, current)
	for i := 0; i < n; i++ {
		stage[i] = y0[i] + float64(half*k1[i])
	}
	k2 := rhs(m, p, &stage, current)
	for i := 0; i < n; i++ {
		stage[i] = y0[i] + float64(half*k2[i])
	}
	k3 := rhs(m, p, &stage, current)
	for i := 0; i < n; i++ {
		stage[i] = y0[i] + float64(h*k3[i])
	}
	k4 := rhs(m, p, &stage, current)
	sixth := h / 6.0
	y1 := *y0
	for i := 0; i < n; i++ {
		sum := k1[i] + float64(2.0*k2[i])
		sum = sum + float64(2.0*k3[i])
		sum = sum + k4[i]
		y1[i] = y0[i] + float64(sixth*sum)
	}
	return y1
}

// ---------------------------------------------------------------------------------------------
// Spike rule (scjax.models._base): threshold + reset, or upward crossing

func spikeAndReset(m model, p []float64, yPrev, yNext *state) bool {
	switch m {
	case izhikevich:
		spike := yNext[0]-p[4] >= 0.0
		if spike {
			yNext[0] = p[2]
			yNext[1] = yNext[1] + p[3]
		}
		return spike
	case hodgkinHuxley:
		return yPrev[0] < p[7] && yNext[0] >= p[7]
	default:
		spike := yNext[0]-p[9] >= 0.0
		if spike {
			yNext[0] = p[8]
			yNext[1] = yNext[1] + p[7]
		}
		return spike
	}
}

// ---------------------------------------------------------------------------------------------
// Argument checks

func checkModel(fn string, name *C.char) (model, int) {
	if name == nil {
		return 0, fail(errNullPointer, fn+": model is NULL")
	}
	s := C.GoString(name)
	m, found := modelFromName(s)
	if !found {
		return 0, fail(errUnknownModel, fmt.Sprintf(
			"%s: unknown model '%s' (expected izhikevich, hodgkin_huxley or adex)", fn, s))
	}
	return m, ok
}

var paramNames = [][]string{
	{"a", "b", "c", "d", "v_peak"},
	{"c_m", "g_na", "g_k", "g_l", "e_na", "e_k", "e_l", "v_threshold"},
	{"c", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b", "v_reset", "v_peak"},
}

var positiveParams = [][]int{{}, {0}, {0, 1, 4, 5}}

func checkParams(fn string, m model, p []float64) int {
	names := paramNames[m]
	for i, x := range p {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fail(errInvalidArgument, fmt.Sprintf(
				"%s: params[%d] (%s) must be finite, got %v", fn, i, names[i], x))
		}
	}
	for _, i := range positiveParams[m] {
		if !(p[i] > 0.0) {
			return fail(errInvalidArgument, fmt.Sprintf(
				"%s: params[%d] (%s) must be positive, got %v", fn, i, names[i], p[i]))
		}
	}
	return ok
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// ---------------------------------------------------------------------------------------------
// Exported functions, in the header's order

//export scjax_abi_version
func scjax_abi_version() C.int32_t { return abiVersion }

//export scjax_state_size
func scjax_state_size(name *C.char) C.int64_t {
	m, status := checkModel("scjax_state_size", name)
	if status != ok {
		return -1
	}
	return C.int64_t(stateSize(m))
}

//export scjax_param_size
func scjax_param_size(name *C.char) C.int64_t {
	m, status := checkModel("scjax_param_size", name)
	if status != ok {
		return -1
	}
	return C.int64_t(paramSize(m))
}

//export scjax_default_params
func scjax_default_params(name *C.char, out *C.double, nOut C.int64_t) C.int32_t {
	const fn = "scjax_default_params"
	m, status := checkModel(fn, name)
	if status != ok {
		return C.int32_t(status)
	}
	if out == nil {
		return C.int32_t(fail(errNullPointer, fn+": out is NULL"))
	}
	defaults := defaultParams(m)
	if int64(nOut) != int64(len(defaults)) {
		return C.int32_t(fail(errParamCount, fmt.Sprintf(
			"%s: n_out must be %d, got %d", fn, len(defaults), int64(nOut))))
	}
	copy(unsafe.Slice((*float64)(unsafe.Pointer(out)), len(defaults)), defaults)
	return ok
}

//export scjax_initial_state
func scjax_initial_state(name *C.char, params *C.double, nParams C.int64_t, out *C.double,
	nOut C.int64_t) C.int32_t {
	const fn = "scjax_initial_state"
	m, status := checkModel(fn, name)
	if status != ok {
		return C.int32_t(status)
	}
	if params == nil {
		return C.int32_t(fail(errNullPointer, fn+": params is NULL"))
	}
	if out == nil {
		return C.int32_t(fail(errNullPointer, fn+": out is NULL"))
	}
	if int64(nParams) != int64(paramSize(m)) {
		return C.int32_t(fail(errParamCount, fmt.Sprintf(
			"%s: n_params must be %d, got %d", fn, paramSize(m), int64(nParams))))
	}
	if int64(nOut) != int64(stateSize(m)) {
		return C.int32_t(fail(errParamCount, fmt.Sprintf(
			"%s: n_out must be %d, got %d", fn, stateSize(m), int64(nOut))))
	}
	p := unsafe.Slice((*float64)(unsafe.Pointer(params)), paramSize(m))
	if status := checkParams(fn, m, p); status != ok {
		return C.int32_t(status)
	}
	o := unsafe.Slice((*float64)(unsafe.Pointer(out)), stateSize(m))
	switch m {
	case izhikevich:
		o[0] = -65.0
		o[1] = p[1] * -65.0
	case hodgkinHuxley:
		v := -65.0
		gate := func(a, b float64) float64 { return a / (a + b) }
		o[0] = v
		o[1] = gate(1.0/exprel(-(v+40.0)/10.0), 4.0*cExp(-(v+65.0)/18.0))
		o[2] = gate(0.07*cExp(-(v+65.0)/20.0), 1.0/(1.0+cExp(-(v+35.0)/10.0)))
		o[3] = gate(0.1/exprel(-(v+55.0)/10.0), 0.125*cExp(-(v+65.0)/80.0))
	default:
		o[0] = p[2]
		o[1] = 0.0
	}
	return ok
}

var emptyMessage = C.CString("")

//export scjax_last_error
func scjax_last_error() *C.char {
	errorMu.Lock()
	defer errorMu.Unlock()
	if errorBuf == nil {
		return emptyMessage
	}
	return errorBuf
}

//export scjax_simulate
func scjax_simulate(name *C.char, integ *C.char, params *C.double, nParams C.int64_t,
	y0 *C.double, current *C.double, nSteps C.int64_t, dt C.double, outStates *C.double,
	outSpikes *C.uint8_t) C.int32_t {
	const fn = "scjax_simulate"
	// 1. pointers, in argument order
	pointers := []struct {
		isNull bool
		name   string
	}{
		{name == nil, "model"},
		{integ == nil, "integrator"},
		{params == nil, "params"},
		{y0 == nil, "y0"},
		{current == nil, "current"},
		{outStates == nil, "out_states"},
		{outSpikes == nil, "out_spikes"},
	}
	for _, ptr := range pointers {
		if ptr.isNull {
			return C.int32_t(fail(errNullPointer, fn+": "+ptr.name+" is NULL"))
		}
	}
	// 2. names
	m, status := checkModel(fn, name)
	if status != ok {
		return C.int32_t(status)
	}
	integName := C.GoString(integ)
	in, found := integratorFromName(integName)
	if !found {
		return C.int32_t(fail(errUnknownIntegr, fmt.Sprintf(
			"%s: unknown integrator '%s' (expected euler, half_euler or rk4)", fn, integName)))
	}
	// 3. parameters and initial state
	nP := paramSize(m)
	n := stateSize(m)
	if int64(nParams) != int64(nP) {
		return C.int32_t(fail(errParamCount, fmt.Sprintf(
			"%s: n_params must be %d for this model, got %d", fn, nP, int64(nParams))))
	}
	p := unsafe.Slice((*float64)(unsafe.Pointer(params)), nP)
	if status := checkParams(fn, m, p); status != ok {
		return C.int32_t(status)
	}
	init := unsafe.Slice((*float64)(unsafe.Pointer(y0)), n)
	for i, x := range init {
		if !isFinite(x) {
			return C.int32_t(fail(errInvalidArgument, fmt.Sprintf(
				"%s: y0[%d] must be finite, got %v", fn, i, x)))
		}
	}
	// 4. steps, dt, current
	steps := int64(nSteps)
	if steps < 1 || steps > maxSteps {
		return C.int32_t(fail(errInvalidArgument, fmt.Sprintf(
			"%s: n_steps must be in [1, 2^40], got %d", fn, steps)))
	}
	h := float64(dt)
	if !(isFinite(h) && h > 0.0) {
		return C.int32_t(fail(errInvalidArgument, fmt.Sprintf(
			"%s: dt must be positive and finite, got %v", fn, h)))
	}
	cur := unsafe.Slice((*float64)(unsafe.Pointer(current)), steps)
	for i, x := range cur {
		if !isFinite(x) {
			return C.int32_t(fail(errInvalidArgument, fmt.Sprintf(
				"%s: current[%d] must be finite, got %v", fn, i, x)))
		}
	}
	// 5. integrate
	states := unsafe.Slice((*float64)(unsafe.Pointer(outStates)), (steps+1)*int64(n))
	spikes := unsafe.Slice((*uint8)(unsafe.Pointer(outSpikes)), steps)
	var y state
	copy(y[:n], init)
	copy(states[:n], y[:n])
	for k := int64(0); k < steps; k++ {
		var yNext state
		switch in {
		case euler:
			yNext = eulerStep(m, p, &y, cur[k], h, n)
		case halfEuler:
			yNext = halfEulerStep(m, p, &y, cur[k], h, n)
		default:
			yNext = rk4Step(m, p, &y, cur[k], h, n)
		}
		if spikeAndReset(m, p, &y, &yNext) {
			spikes[k] = 1
		} else {
			spikes[k] = 0
		}
		y = yNext
		copy(states[(k+1)*int64(n):(k+2)*int64(n)], y[:n])
	}
	return ok
}

func main() {}
