/* The activation functions, each written once, for float and floatN alike (scalars in
   vector expressions widen, and ?: selects per lane):
     ACT_FORWARD_<name>(v, p)      the output at input v (p: the parameter, e.g. a slope)
     ACT_BACKWARD_<name>(s, g, p)  the gradient at the input from the gradient g at the
                                   output and the saved value s: the input when the table
                                   says the activation saves it, else the output.
   The host's table (host/model/activation.c) names them and arrives as
   -DACT_LIST(X,M)=X(M,name,id,saves,gates)...; the dispatchers and the kernel variants of
   common.cl and colvec.cl are instantiated from it, so a new activation is a table row and
   its two lines here. */
#ifndef ACT_MATH_CL
#define ACT_MATH_CL

#define ACT_FORWARD_none(v, p) (v)
#define ACT_BACKWARD_none(s, g, p) (g)

#define ACT_FORWARD_relu(v, p) ((v) < 0.0f ? 0.0f : (v)) /* NaN passes through */
#define ACT_BACKWARD_relu(s, g, p) ((s) > 0.0f ? (g) : 0.0f)

#define ACT_FORWARD_leaky_relu(v, p) ((v) > 0.0f ? (v) : (v) * (p))
#define ACT_BACKWARD_leaky_relu(s, g, p) ((s) > 0.0f ? (g) : (g) * (p))

#define ACT_FORWARD_sigmoid(v, p) (1.0f / (1.0f + exp(-(v))))
#define ACT_BACKWARD_sigmoid(s, g, p) ((g) * (1.0f - (s)) * (s))

#define ACT_FORWARD_tanh(v, p) tanh(v)
#define ACT_BACKWARD_tanh(s, g, p) ((g) * (1.0f - (s) * (s)))

/* PyTorch's exact GELU (approximate='none'): x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2;
   the derivative Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), in PyTorch's
   operation order. Saves its input. */
#define ACT_FORWARD_gelu(v, p) ((v) * 0.5f * (1.0f + erf((v) * M_SQRT1_2_F)))
#define ACT_BACKWARD_gelu(s, g, p)                                          \
  ((g) * (0.5f * (1.0f + erf((s) * M_SQRT1_2_F)) +                          \
          (s) * ((M_2_SQRTPI_F * M_SQRT1_2_F * 0.5f) * exp((s) * (s) * -0.5f))))

/* Dispatch on the id ACT (a constant in the vector kernels, so the branches fold away).
   Use inside a function with parameters act, slope and v (forward) or s, g (backward). */
#define ACT_FWD_CASE(M, NAME, ID, SAVES, GATES) \
  if (act == ID) return ACT_FORWARD_##NAME(v, slope);
#define ACT_BWD_CASE(M, NAME, ID, SAVES, GATES) \
  if (act == ID) return ACT_BACKWARD_##NAME(s, g, slope);
/* saves: 2 the input, 3 the input when the parameter is negative (host act_saves). */
#define ACT_SAVES_INPUT_CASE(M, NAME, ID, SAVES, GATES) \
  if (act == ID) return SAVES == 2 || (SAVES == 3 && slope < 0.0f);
#define ACT_GATES_CASE(M, NAME, ID, SAVES, GATES) \
  if (act == ID) return GATES != 0;

/* Whether the forward must keep the pre-activation input rather than the output. */
inline bool act_saves_input(const int act, const float slope) {
  ACT_LIST(ACT_SAVES_INPUT_CASE, _)
  return false;
}
/* Whether the output after dropout is > 0 exactly where the gradient passes (ReLU), so
   the backward needs no mask. */
inline bool act_gates(const int act) {
  ACT_LIST(ACT_GATES_CASE, _)
  return false;
}
#endif
