/* Grouping of layers into fused stages and allocation of their buffers (net_internal.h). */
#include <string.h>

#include "net/net_internal.h"
#include "base/util.h"

static size_t act_bytes(const net *n, int width) {
  return (size_t)n->max_batch * (size_t)width * sizeof(float);
}

void net_plan_stages(net *n) {
  const model_spec *m = &n->m;
  cl_runtime *rt = n->rt;
  n->n_stages = 0;
  cl_mem in = n->x, din = NULL;
  bool params_before = false;
  int i = 0;
  while (i < m->n_layers) {
    net_stage *s = &n->stages[n->n_stages++];
    memset(s, 0, sizeof *s);
    const layer_spec *L = &m->layers[i];
    s->layer = i;
    s->in = L->in;
    s->out = L->out;
    s->epi.seed = n->seed;
    int j = i;
    if (L->kind == LAYER_LINEAR || L->kind == LAYER_BATCHNORM) {
      s->kind = L->kind == LAYER_LINEAR ? STAGE_LINEAR : STAGE_BATCHNORM;
      j = i + 1;
    } else {
      s->kind = STAGE_POINTWISE;
    }
    if (j < m->n_layers && m->layers[j].kind == LAYER_ACTIVATION) {
      s->epi.act = m->layers[j].act;
      s->epi.slope = m->layers[j].arg;
      j++;
    }
    if (j < m->n_layers && m->layers[j].kind == LAYER_DROPOUT) {
      s->epi.drop_p = m->layers[j].arg;
      s->epi.drop_layer = (uint32_t)j;
      j++;
    }
    s->has_epi = s->epi.act != ACT_NONE || dropout_threshold(s->epi.drop_p) != 0;
    if (dropout_threshold(s->epi.drop_p) != 0)
      s->epi.mask = rt_alloc(rt, (size_t)n->max_batch * (size_t)L->out); /* one byte per element */
    if (s->kind == STAGE_LINEAR) {
      s->w_off = L->param_offset;
      s->b_off = L->param_offset + (size_t)L->in * (size_t)L->out;
      s->bias_in_next = !s->has_epi && j < m->n_layers && m->layers[j].kind == LAYER_BATCHNORM;
      /* per stage: a net may mix fused and CLBlast stages where the stored choices differ */
      const gemm_path stored = gemm_choice_lookup(&rt->gemm_paths, L->in, L->out, n->max_batch);
      s->fused_on = net_gemm_fused(n->gemm, stored, L->in, L->out);
      error e = {0};
      /* the widths fit (net_gemm_fused), so a failure is the runtime's and already in it */
      if (s->fused_on && fused_linear_init(&s->fused, rt, L->in, L->out, s->epi.act, FUSED_FORM_AUTO, &e) &&
          !rt_failed(rt))
        rt->err = e;
    }
    if (s->kind == STAGE_BATCHNORM) {
      op_bn *bn = &s->bn;
      bn->C = L->out;
      bn->params = n->params;
      bn->gamma_off = L->param_offset;
      bn->beta_off = L->param_offset + (size_t)L->out;
      bn->stats = n->stats;
      bn->rm_off = L->stats_offset;
      bn->rv_off = L->stats_offset + (size_t)L->out;
      bn->batch_stats = rt_alloc(rt, 2 * (size_t)L->out * sizeof(float));
      bn->momentum = 0.1f;
      bn->eps = 1e-5f;
      if (n->n_stages > 1 && s[-1].bias_in_next) {
        bn->has_bias = true;
        bn->bias_off = s[-1].b_off;
      }
    }
    s->needs_dx = params_before;
    params_before = params_before || s->kind != STAGE_POINTWISE;
    s->in_buf = in;
    s->out_buf = rt_alloc(rt, act_bytes(n, s->out));
    s->own_saved = op_epilogue_needs_saved(&s->epi) ? rt_alloc(rt, act_bytes(n, s->out)) : NULL;
    s->saved_buf = s->own_saved ? s->own_saved : s->out_buf;
    s->dout_buf = rt_alloc(rt, act_bytes(n, s->out));
    s->din_buf = din;
    in = s->out_buf;
    din = s->dout_buf;
    i = j;
  }
  n->logits = in;
  n->dlogits = n->n_stages ? n->stages[n->n_stages - 1].dout_buf : NULL;
}

void net_free_stages(net *n) {
  for (int i = 0; i < n->n_stages; i++) {
    net_stage *s = &n->stages[i];
    rt_release(&s->out_buf);
    rt_release(&s->own_saved);
    rt_release(&s->dout_buf);
    rt_release(&s->bn.batch_stats);
    rt_release(&s->sync_local);
    rt_release(&s->sync_global);
    rt_release(&s->epi.mask);
    if (s->fused_on) fused_linear_free(&s->fused);
  }
  n->n_stages = 0;
}

int net_fused_stages(const net *n) {
  int count = 0;
  for (int i = 0; i < n->n_stages; i++) count += n->stages[i].fused_on;
  return count;
}

bool net_layer_fused(const net *n, int layer) {
  for (int i = 0; i < n->n_stages; i++)
    if (n->stages[i].layer == layer) return n->stages[i].kind == STAGE_LINEAR && n->stages[i].fused_on;
  return false;
}
