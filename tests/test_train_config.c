/* Training configuration: MASE defaults, strict value checks with one message naming the
   option, the sgd weight-decay rule, the key=value round trip stored in checkpoints, and
   the effective-configuration table; --resume keeps the stored --whole-net, and a
   checkpoint from before that option existed (no whole-net key) continues stage by stage,
   so its continuation keeps its bits. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "train/checkpoint.h"
#include "train/train_config.h"
#include "train/trainer.h"

static void expect_bad(const char *name, const char *value, const char *needle) {
  train_config cfg;
  train_config_default(&cfg);
  char err[512] = "";
  int rc = train_config_set(&cfg, name, value, err, sizeof err);
  CHECK(rc == -1, "--%s '%s' accepted", name, value ? value : "(null)");
  CHECK(strstr(err, needle) != NULL, "--%s '%s': message '%s' lacks '%s'", name, value ? value : "", err, needle);
  CHECK(strchr(err, '\n') == NULL, "message is one line: '%s'", err);
}

/* The table row of NAME has exactly these default, override and effective cells. */
static void expect_row(const char *table, const char *name, const char *def, const char *over, const char *eff) {
  char want[256], got[256] = "";
  snprintf(want, sizeof want, "%s %s %s %s", name, def, over, eff);
  for (const char *p = table; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    char a[64], b[64], c[64], d[64];
    if (sscanf(p, "%63s %63s %63s %63s", a, b, c, d) == 4 && strcmp(a, name) == 0) {
      snprintf(got, sizeof got, "%s %s %s %s", a, b, c, d);
      break;
    }
  }
  CHECK(strcmp(got, want) == 0, "row '%s', want '%s'", got, want);
}

static void set_ok(train_config *cfg, const char *name, const char *value) {
  char err[512] = "";
  CHECK(train_config_set(cfg, name, value, err, sizeof err) == 0, "--%s %s: %s", name, value, err);
}

/* The --whole-net a resumed run takes from a checkpoint whose configuration text is that
   of STORED ("on", "auto"; NULL: the key removed, as written before the option existed). */
static net_whole_mode resumed_whole(const char *stored) {
  train_config run;
  train_config_default(&run);
  set_ok(&run, "model", "jsc-tiny");
  set_ok(&run, "dataset", "jsc-synth");
  if (stored) set_ok(&run, "whole-net", stored);
  char *text = train_config_to_text(&run);
  char *line = strstr(text, "\nwhole-net=");
  CHECK(line != NULL, "the stored text has no whole-net key");
  if (!stored && line) memmove(line + 1, strchr(line + 1, '\n') + 1, strlen(strchr(line + 1, '\n') + 1) + 1);
  checkpoint ck;
  memset(&ck, 0, sizeof ck);
  ck.config_text = text;
  train_config cli, eff;
  train_config_default(&cli);
  snprintf(cli.resume, sizeof cli.resume, "old.ckpt");
  error e = {0};
  CHECK(train_resolve_resume(&cli, &ck, &eff, &e) == 0, "resume: %s", e.msg);
  free(text);
  return eff.whole_net;
}

int main(void) {
  CHECK(resumed_whole("on") == NET_WHOLE_ON && resumed_whole("off") == NET_WHOLE_OFF, "stored --whole-net not kept");
  CHECK(resumed_whole("auto") == NET_WHOLE_AUTO, "stored --whole-net auto not kept");
  CHECK(resumed_whole(NULL) == NET_WHOLE_OFF, "a checkpoint without whole-net does not continue stage by stage");
  train_config cfg;
  train_config_default(&cfg);
  CHECK(cfg.max_epochs == 20 && cfg.batch_size == 128 && cfg.learning_rate == 1e-5, "MASE defaults");
  CHECK(cfg.optimizer == OPTIM_ADAM && cfg.weight_decay == 0 && cfg.seed == 0, "optimizer defaults");
  CHECK(cfg.log_every_n_steps == 50 && cfg.scheduler == SCHED_COSINE && cfg.early_stopping == 0, "log/sched");
  CHECK(strcmp(cfg.project_dir, "runs") == 0 && cfg.val_fraction == 0.1 && cfg.synth_size == 830000, "dirs/data");
  CHECK(cfg.split_seed == 42 && cfg.synth_seed == 0 && !cfg.no_cache, "data seeds as the data module's defaults");
  for (int i = 0; i < TOPT_COUNT; i++) CHECK(!cfg.given[i], "option %d given by default", i);

  /* Weight decay: sgd uses 5e-4 unless given, adam/adamw use what is given (0). */
  CHECK(train_config_weight_decay(&cfg) == 0.0, "adam wd");
  set_ok(&cfg, "optimizer", "sgd");
  CHECK(train_config_weight_decay(&cfg) == 5e-4, "sgd default wd %g", train_config_weight_decay(&cfg));
  set_ok(&cfg, "weight-decay", "0");
  CHECK(train_config_weight_decay(&cfg) == 0.0 && cfg.given[TOPT_WEIGHT_DECAY], "sgd explicit wd 0");

  set_ok(&cfg, "batch-size", "256");
  set_ok(&cfg, "learning-rate", "1e-3");
  set_ok(&cfg, "scheduler", "none");
  set_ok(&cfg, "seed", "12345678901");
  set_ok(&cfg, "device", "pthread");
  set_ok(&cfg, "no-progress", NULL);
  set_ok(&cfg, "model", "models/my net.model");
  set_ok(&cfg, "dataset", "jsc-synth");
  set_ok(&cfg, "val-fraction", "0.25");
  set_ok(&cfg, "split-seed", "7");
  set_ok(&cfg, "no-cache", "true");
  CHECK(cfg.batch_size == 256 && cfg.learning_rate == 1e-3 && cfg.scheduler == SCHED_NONE, "set values");
  CHECK(cfg.seed == 12345678901ull && cfg.no_progress && cfg.given[TOPT_BATCH_SIZE], "seed/flag/given");
  CHECK(cfg.split_seed == 7 && cfg.synth_seed == 0 && cfg.no_cache && !cfg.quiet, "data seeds/cache");

  expect_bad("batch-size", "abc", "--batch-size: 'abc' is not an integer in [1, 1048576]");
  expect_bad("batch-size", "0", "--batch-size: '0'");
  expect_bad("batch-size", "12x", "--batch-size: '12x'");
  expect_bad("batch-size", "", "--batch-size: ''");
  expect_bad("max-epochs", "-1", "--max-epochs: '-1' is not an integer");
  expect_bad("max-epochs", "2.5", "--max-epochs: '2.5'");
  expect_bad("learning-rate", "0", "--learning-rate: '0' is not a number in (0, 10]");
  expect_bad("learning-rate", "-1e-3", "--learning-rate");
  expect_bad("learning-rate", "nan", "--learning-rate: 'nan'");
  expect_bad("learning-rate", "inf", "--learning-rate: 'inf'");
  expect_bad("learning-rate", "1e-3x", "--learning-rate");
  expect_bad("weight-decay", "-0.1", "--weight-decay: '-0.1' is not a number in [0, 1]");
  expect_bad("optimizer", "adagrad", "--optimizer: 'adagrad' is not one of adam, adamw, sgd, rmsprop");
  expect_bad("optimizer", "Adam", "--optimizer");
  expect_bad("scheduler", "step", "--scheduler: 'step' is not one of cosine, none");
  expect_bad("seed", "-3", "--seed: '-3'");
  expect_bad("early-stopping", "x", "--early-stopping");
  expect_bad("log-every-n-steps", "0", "--log-every-n-steps: '0'");
  expect_bad("val-fraction", "0", "--val-fraction: '0' is not a number in (0, 0.9]");
  expect_bad("val-fraction", "1", "--val-fraction");
  expect_bad("synth-size", "10", "--synth-size: '10'");
  expect_bad("project-dir", "", "--project-dir: empty value");
  expect_bad("split-seed", "-1", "--split-seed: '-1'");
  expect_bad("synth-seed", "1.5", "--synth-seed: '1.5'");
  expect_bad("quiet", "maybe", "--quiet: 'maybe'");
  expect_bad("no-such-option", "1", "unknown training option 'no-such-option'");

  char err[512];
  train_config both;
  train_config_default(&both);
  set_ok(&both, "model", "jsc-tiny");
  set_ok(&both, "dataset", "jsc-synth");
  set_ok(&both, "load", "a.ckpt");
  set_ok(&both, "resume", "b.ckpt");
  CHECK(train_config_validate(&both, err, sizeof err) == -1 && strstr(err, "--load and --resume"), "%s", err);

  /* Long options: every non-positional option, ids map back to their names. */
  const struct option *lo = train_config_long_options();
  size_t n = train_config_long_options_count();
  CHECK(n == TOPT_COUNT - 2, "long options %zu", n);
  for (size_t i = 0; i < n; i++)
    CHECK(strcmp(lo[i].name, train_option_name((train_option)(lo[i].val - TRAIN_OPT_ID_BASE))) == 0, "%s id",
          lo[i].name);
  CHECK(lo[n].name == NULL, "terminated");

  /* Round trip through the stored text: same values, same given flags. */
  char *text = train_config_to_text(&cfg);
  train_config back;
  train_config_default(&back);
  CHECK(train_config_from_text(&back, text, err, sizeof err) == 0, "from_text: %s", err);
  for (int i = 0; i < TOPT_COUNT; i++) {
    char a[2048], b[2048];
    train_config_value_text(&cfg, (train_option)i, a, sizeof a);
    train_config_value_text(&back, (train_option)i, b, sizeof b);
    CHECK(strcmp(a, b) == 0, "%s: '%s' != '%s'", train_option_name((train_option)i), a, b);
  }
  CHECK(back.learning_rate == cfg.learning_rate && back.val_fraction == cfg.val_fraction, "doubles exact");
  CHECK(back.given[TOPT_BATCH_SIZE] && !back.given[TOPT_MAX_EPOCHS], "given flags follow non-defaults");
  CHECK(train_config_weight_decay(&back) == 0.0, "explicit sgd weight decay 0 survives: %g",
        train_config_weight_decay(&back));
  free(text);
  CHECK(train_config_from_text(&back, "batch-size=0\n", err, sizeof err) == -1 && strstr(err, "--batch-size"),
        "bad stored value: %s", err);
  CHECK(train_config_from_text(&back, "colour=red\n", err, sizeof err) == -1 && strstr(err, "colour"), "%s", err);

  /* The table: header and one row per option with default, override and effective. */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  train_config_print_table(f, &cfg, "pthread-cpu");
  fclose(f);
  CHECK(strncmp(buf, "option", 6) == 0 && strstr(buf, "default") && strstr(buf, "override") && strstr(buf, "effective"),
        "header: %.80s", buf);
  int lines = 0;
  for (char *p = buf; *p; p++) lines += *p == '\n';
  CHECK(lines == TOPT_COUNT + 1, "%d lines", lines);
  expect_row(buf, "batch-size", "128", "256", "256");
  expect_row(buf, "learning-rate", "1e-05", "0.001", "0.001");
  expect_row(buf, "max-epochs", "20", "-", "20");
  expect_row(buf, "weight-decay", "0", "0", "0");
  expect_row(buf, "optimizer", "adam", "sgd", "sgd");
  expect_row(buf, "dataset", "-", "jsc-synth", "jsc-synth");
  CHECK(strstr(buf, "pthread: pthread-cpu\n") != NULL, "device row annotated");
  free(buf);
  return test_summary("test_train_config");
}
