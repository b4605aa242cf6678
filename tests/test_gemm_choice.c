/* The measured GEMM path per Linear shape (cl/gemm_choice.h, stored by cltrain tune):
   the lookup picks the tuned batch nearest the net's; a tuning file's "linear" lines
   round-trip, a format-1 file (before them) still loads, a hostile line is refused with
   one message naming the file, the line and the fault; --gemm auto follows the stored
   choice per stage (a "clblast" entry keeps that stage on CLBlast), so a net can mix the
   two paths, and a mixed net is bit-reproducible and agrees with the all-CLBlast
   reference within float rounding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cl/tuning.h"
#include "devutil.h"
#include "model/model.h"
#include "testutil.h"

static void lookup_cases(void) {
  gemm_choices c = {.n = 3};
  c.items[0] = (gemm_choice){16, 5, 32, GEMM_PATH_CLBLAST, 1, 2};
  c.items[1] = (gemm_choice){16, 5, 256, GEMM_PATH_FUSED, 2, 1};
  c.items[2] = (gemm_choice){8, 8, 1024, GEMM_PATH_CLBLAST, 1, 2};
  CHECK(gemm_choice_lookup(&c, 16, 5, 32) == GEMM_PATH_CLBLAST, "exact batch 32");
  CHECK(gemm_choice_lookup(&c, 16, 5, 256) == GEMM_PATH_FUSED, "exact batch 256");
  CHECK(gemm_choice_lookup(&c, 16, 5, 64) == GEMM_PATH_CLBLAST, "64 is 2x from 32, 4x from 256");
  CHECK(gemm_choice_lookup(&c, 16, 5, 128) == GEMM_PATH_FUSED, "128 is 4x from 32, 2x from 256");
  /* sqrt(32*256) = 90.5: 90 is nearer 32 by ratio, 91 nearer 256 */
  CHECK(gemm_choice_lookup(&c, 16, 5, 90) == GEMM_PATH_CLBLAST, "90 nearer 32");
  CHECK(gemm_choice_lookup(&c, 16, 5, 91) == GEMM_PATH_FUSED, "91 nearer 256");
  CHECK(gemm_choice_lookup(&c, 16, 5, 1) == GEMM_PATH_CLBLAST, "batch 1");
  CHECK(gemm_choice_lookup(&c, 8, 8, 2) == GEMM_PATH_CLBLAST, "the only batch of 8x8");
  CHECK(gemm_choice_lookup(&c, 5, 16, 256) == GEMM_PATH_NONE, "5x16 is not 16x5");
  gemm_choices tie = {.n = 2};
  tie.items[0] = (gemm_choice){4, 4, 64, GEMM_PATH_CLBLAST, 1, 2};
  tie.items[1] = (gemm_choice){4, 4, 256, GEMM_PATH_FUSED, 2, 1};
  CHECK(gemm_choice_lookup(&tie, 4, 4, 128) == GEMM_PATH_FUSED, "a tie goes to the larger batch");
}

/* TEXT (without its checksum line) plus a valid checksum, as tuning_save writes it. */
static void write_checksummed(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) TEST_DIE("cannot write %s", path);
  fprintf(f, "%scheck", text);
  fprintf(f, "sum %016llx\n", (unsigned long long)fnv1a64(text, strlen(text), FNV1A64_INIT));
  fclose(f);
}

static void file_cases(const cl_runtime *rt, const char *path) {
  char head[1024], text[4096], err[1600];
  snprintf(head, sizeof head, "device %s\nplatform %s\ndriver %s\nmeasured_us 1 default_us 2\n", rt->info.name,
           rt->info.platform_name, rt->info.driver);
  tuning t = {0}, back;
  snprintf(t.device, sizeof t.device, "%s", rt->info.name);
  snprintf(t.platform, sizeof t.platform, "%s", rt->info.platform_name);
  snprintf(t.driver, sizeof t.driver, "%s", rt->info.driver);
  t.choices.n = 2;
  t.choices.items[0] = (gemm_choice){16, 5, 256, GEMM_PATH_CLBLAST, 12.5, 40.25};
  t.choices.items[1] = (gemm_choice){8, 8, 32, GEMM_PATH_FUSED, 30, 10};
  CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save: %s", err);
  CHECK(tuning_load(path, &back, err, sizeof err) == 0, "load: %s", err);
  CHECK(back.choices.n == 2 && memcmp(&back.choices.items[0], &t.choices.items[0], sizeof(gemm_choice)) == 0 &&
            memcmp(&back.choices.items[1], &t.choices.items[1], sizeof(gemm_choice)) == 0,
        "choices round trip (%d)", back.choices.n);

  /* Format 1, as cltrain wrote it before the choices: loads, with none. */
  snprintf(text, sizeof text, "cltrain-tuning 1\n%sset GemmRoutine XGEMM_MIN_INDIRECT_SIZE=77\n", head);
  write_checksummed(path, text);
  CHECK(tuning_load(path, &back, err, sizeof err) == 0 && back.choices.n == 0 && back.n_sets == 1,
        "format 1 file: %s", err);
  /* The threshold cltrain tune stores when the indirect path never wins (2^20: every
     shape direct) loads; one above is refused. (A bound of 4096 once made every such
     file "hostile" and ignored.) */
  snprintf(text, sizeof text, "cltrain-tuning 2\n%sset GemmRoutine XGEMM_MIN_INDIRECT_SIZE=%d\n", head,
           TUNING_NEVER_INDIRECT);
  write_checksummed(path, text);
  CHECK(tuning_load(path, &back, err, sizeof err) == 0 && back.sets[0].values[0] == TUNING_NEVER_INDIRECT,
        "never-indirect threshold refused: %s", err);
  snprintf(text, sizeof text, "cltrain-tuning 2\n%sset GemmRoutine XGEMM_MIN_INDIRECT_SIZE=%d\n", head,
           TUNING_NEVER_INDIRECT + 1);
  write_checksummed(path, text);
  CHECK(tuning_load(path, &back, err, sizeof err) == -1 && strstr(err, "XGEMM_MIN_INDIRECT_SIZE of 0-1048576"),
        "threshold above 2^20 accepted: %s", err);
  /* ... but a "linear" line is format 2's: in a format 1 file it is malformed. */
  snprintf(text, sizeof text, "cltrain-tuning 1\n%slinear 16 5 32 fused 1 1\n", head);
  write_checksummed(path, text);
  CHECK(tuning_load(path, &back, err, sizeof err) == -1 && strstr(err, "malformed line 6"), "v1 linear: %s", err);

  static const struct {
    const char *line, *needle;
    const char *at; /* the line the fault is on */
  } hostile[] = {
      {"linear 16 5 32 gpu 1 1", "path 'gpu' is not clblast or fused", "line 6:"},
      {"linear 16 5 32 FUSED 1 1", "path 'FUSED' is not clblast or fused", "line 6:"},
      {"linear 0 5 32 fused 1 1", "widths '0' '5' are not integers in [1, 65536]", "line 6:"},
      {"linear 16 99999999999999999999 32 fused 1 1", "are not integers in [1, 65536]", "line 6:"},
      {"linear 16 5 0 fused 1 1", "batch size '0' is not an integer in [1, 1048576]", "line 6:"},
      {"linear 16 5 2097152 clblast 1 1", "batch size '2097152'", "line 6:"},
      {"linear 16 5 32 fused nan 1", "time 'nan' is not a number", "line 6:"},
      {"linear 16 5 32 fused 1 -3", "time '-3' is not a number", "line 6:"},
      {"linear 16 5 32 fused 1 1e300", "time '1e300'", "line 6:"},
      {"linear 16 5 32 fused 1", "5 fields, expected 6", "line 6:"},
      {"linear 16 5 32 fused 1 1 extra", "more than 6 fields", "line 6:"},
      {"linear 16 5 32 fu\x01sed 1 1", "field 4 has a control or non-ASCII character", "line 6:"},
      {"linear 16 5 32 fused 1 1\nlinear 16 5 32 clblast 1 1", "a second entry for 16x5 at batch 32", "line 7:"},
  };
  for (size_t c = 0; c < sizeof hostile / sizeof hostile[0]; c++) {
    snprintf(text, sizeof text, "cltrain-tuning 2\n%s%s\n", head, hostile[c].line);
    write_checksummed(path, text);
    int rc = tuning_load(path, &back, err, sizeof err);
    CHECK(rc == -1 && strstr(err, path) && strstr(err, hostile[c].at) &&
              strstr(err, hostile[c].needle) &&
              !strchr(err, '\n'),
          "hostile %zu: rc %d '%s' lacks '%s'", c, rc, err, hostile[c].needle);
  }
  /* More entries than the table holds. */
  size_t len = (size_t)snprintf(text, sizeof text, "cltrain-tuning 2\n%s", head);
  char *many = xmalloc(len + (GEMM_CHOICES_MAX + 1) * 40 + 1);
  memcpy(many, text, len + 1);
  for (int i = 0; i <= GEMM_CHOICES_MAX; i++) len += (size_t)sprintf(many + len, "linear 16 5 %d fused 1 1\n", i + 1);
  write_checksummed(path, many);
  free(many);
  CHECK(tuning_load(path, &back, err, sizeof err) == -1 && strstr(err, "more than 128 entries"), "too many: %s", err);
}

static void random_batch(const model_spec *m, int batch, float *x, int32_t *y) {
  for (int i = 0; i < batch * m->input_width; i++) x[i] = (float)((i * 7919) % 1000) / 250.0f - 2.0f;
  for (int i = 0; i < batch; i++) y[i] = (i * 31) % m->output_width;
}

/* SGD steps of a net for M on rt's current choices; its parameters afterwards. */
static float *train_params(cl_runtime *rt, const model_spec *m, net_gemm gemm, int batch, int expect_fused) {
  net *n = dev_net_gemm(rt, m, batch, 11, OPTIM_SGD, gemm);
  CHECK(net_fused_stages(n) == expect_fused, "--gemm %s: %d fused stages, expected %d", net_gemm_name(gemm),
        net_fused_stages(n), expect_fused);
  float *x = xmalloc((size_t)batch * (size_t)m->input_width * sizeof *x);
  int32_t *y = xmalloc((size_t)batch * sizeof *y);
  random_batch(m, batch, x, y);
  optim_config opt;
  optim_config_default(&opt, OPTIM_SGD, 0.05f, 0.0f);
  for (uint64_t step = 1; step <= 4; step++) {
    net_set_batch_host(n, x, y, batch);
    net_train_step(n, batch, &opt, step);
  }
  float *p = xmalloc(net_param_count(n) * sizeof *p);
  error e = {0};
  CHECK(net_read_state(n, p, NULL, NULL, &e) == 0, "read state: %s", e.msg);
  net_free(n);
  free(x);
  free(y);
  return p;
}

static void plan_cases(cl_runtime *rt, const char *path) {
  model_spec tiny, toy;
  error e = {0};
  if (model_load("jsc-tiny", &tiny, &e) || model_load("jsc-toy", &toy, &e)) TEST_DIE("%s", e.msg);

  /* Through the file, as a run gets it: "clblast" for jsc-tiny's 16x5 at batch 256 keeps
     its one Linear on CLBlast under auto; explicit --gemm fused still fuses it. */
  tuning t = {0};
  snprintf(t.device, sizeof t.device, "%s", rt->info.name);
  snprintf(t.platform, sizeof t.platform, "%s", rt->info.platform_name);
  snprintf(t.driver, sizeof t.driver, "%s", rt->info.driver);
  t.choices.n = 1;
  t.choices.items[0] = (gemm_choice){16, 5, 256, GEMM_PATH_CLBLAST, 10, 20};
  char err[1600];
  CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save: %s", err);
  CHECK(tuning_apply_stored(rt) && rt->gemm_paths.n == 1, "stored choices not applied (%d)", rt->gemm_paths.n);
  net *n = dev_net_gemm(rt, &tiny, 256, 1, OPTIM_ADAM, NET_GEMM_AUTO);
  CHECK(net_fused_stages(n) == 0, "auto with a stored 'clblast' for 16x5: %d fused stages", net_fused_stages(n));
  net_free(n);
  n = dev_net_gemm(rt, &tiny, 256, 1, OPTIM_ADAM, NET_GEMM_FUSED);
  CHECK(net_fused_stages(n) == 1, "--gemm fused must override the stored choice");
  net_free(n);
  t.choices.items[0].path = GEMM_PATH_FUSED;
  CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save: %s", err);
  CHECK(tuning_apply_stored(rt), "stored choices not applied");
  n = dev_net_gemm(rt, &tiny, 256, 1, OPTIM_ADAM, NET_GEMM_AUTO);
  CHECK(net_fused_stages(n) == 1, "auto with a stored 'fused' for 16x5: %d fused stages", net_fused_stages(n));
  net_free(n);
  unlink(path);
  CHECK(!tuning_apply_stored(rt) && rt->gemm_paths.n == 0, "no file: no choices");
  n = dev_net_gemm(rt, &tiny, 256, 1, OPTIM_ADAM, NET_GEMM_AUTO);
  CHECK(net_fused_stages(n) == 1, "auto without a stored choice: fused for narrow layers");
  net_free(n);

  /* A mixed net: jsc-toy's 8x8 on CLBlast, its 16x8 and 8x5 fused. The same bits run to
     run, and the reference's numbers within float rounding: 4 SGD steps at lr 0.05 move
     parameters of size ~0.3 by ~1e-2; the paths' GEMMs sum in different orders (relative
     ~1e-7 per step on the gradients), so 1e-5 relative (floor 1e-3) is a wide bound that a
     wrong stage (a missing bias, a wrong transpose: errors of 1e-2 and more) still fails. */
  rt->gemm_paths.n = 1;
  rt->gemm_paths.items[0] = (gemm_choice){8, 8, 64, GEMM_PATH_CLBLAST, 1, 2};
  float *a = train_params(rt, &toy, NET_GEMM_AUTO, 64, 2);
  float *b = train_params(rt, &toy, NET_GEMM_AUTO, 64, 2);
  rt->gemm_paths.n = 0;
  float *ref = train_params(rt, &toy, NET_GEMM_CLBLAST, 64, 0);
  float *fused = train_params(rt, &toy, NET_GEMM_AUTO, 64, 3); /* no choice: all fused */
  CHECK(memcmp(a, b, toy.n_params * sizeof *a) == 0, "a mixed net is not bit-reproducible");
  double worst = 0, worst_fused = 0;
  for (size_t i = 0; i < toy.n_params; i++) {
    worst = fmax(worst, rel_err(a[i], ref[i], 1e-3));
    worst_fused = fmax(worst_fused, rel_err(fused[i], ref[i], 1e-3));
  }
  CHECK(worst < 1e-5, "mixed net against the CLBlast reference: relative error %.3g", worst);
  CHECK(worst_fused < 1e-5, "all-fused net against the CLBlast reference: relative error %.3g", worst_fused);
  free(a);
  free(b);
  free(ref);
  free(fused);
  model_free(&tiny);
  model_free(&toy);
}

int main(void) {
  lookup_cases();
  char dir[] = "/tmp/cltrain-gemm-choice-XXXXXX";
  if (!mkdtemp(dir)) TEST_DIE("mkdtemp");
  setenv("CLTRAIN_TUNING_DIR", dir, 1);
  unsetenv("CLTRAIN_NO_TUNING");
  cl_runtime rt;
  dev_open(&rt);
  char path[1200];
  tuning_path(&rt.info, path, sizeof path);
  file_cases(&rt, path);
  plan_cases(&rt, path);
  dev_check(&rt, "device work");
  rt_close(&rt);
  unlink(path);
  rmdir(dir);
  return test_summary("test_gemm_choice");
}
