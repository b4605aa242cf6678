/* cltrain models [MODEL...]: the zoo with parameter counts, or the layer table of each
   named model (zoo name or model file). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "data/data.h"
#include "model/model.h"
#include "model/model_print.h"
#include "base/util.h"

static void models_usage(FILE *out) {
  fprintf(out,
          "usage: cltrain models [MODEL...]\n"
          "\n"
          "Without arguments, list the model zoo with parameter counts. With MODEL (a zoo name\n"
          "or a model file path), print its layer table: index, line in the file, layer,\n"
          "in->out widths, parameters and running total.\n"
          "\n"
          "Model files are plain text, one layer per line, '#' comments: 'input N' first, then\n"
          "linear OUT, batchnorm, relu, leaky_relu [SLOPE], sigmoid, tanh, gelu, dropout P.\n"
          "\n"
          "  -h, --help this text\n");
}

static void load_or_die(const char *name, model_spec *m) {
  error e = {0};
  if (model_load(name, m, &e)) cli_usage_exit("models: %s", e.msg);
}

/* models has no options besides --help: cli_parse refuses every other one first. */
static int no_option(void *ctx, int id, const char *arg, error *err) {
  (void)ctx, (void)arg;
  return ERR_RUNTIME(err, "option id %d is not a models option", id);
}

int cmd_models(int argc, char **argv) {
  const cli_command c = {.cmd = "models", .help_fn = models_usage, .apply = no_option};
  const int first = cli_parse(argc, argv, &c);
  if (first == argc) {
    printf("%-10s %8s %7s  %s\n", "name", "params", "layers", "description");
    for (int i = 0; model_zoo_names[i]; i++) {
      model_spec m;
      char desc[256];
      load_or_die(model_zoo_names[i], &m);
      printf("%-10s %8zu %7d  %s\n", m.name, m.n_params, m.n_layers, model_description(&m, desc, sizeof desc));
      model_free(&m);
    }
    return EXIT_OK;
  }
  /* Parse every argument first so a bad one gives no partial output. */
  model_spec models[16];
  int n = argc - first;
  if (n > 16) cli_usage_exit("models: at most 16 models at once");
  for (int i = 0; i < n; i++) load_or_die(argv[first + i], &models[i]);
  for (int i = 0; i < n; i++) {
    if (i) putchar('\n');
    model_print_header(stdout, &models[i]);
    model_print_layers(stdout, &models[i]);
    /* Every data set cltrain reads has the JSC classes: say now what train would refuse. */
    error e = {0};
    if (model_check_classes(&models[i], JSC_N_CLASSES, &e))
      fprintf(stderr, "cltrain: warning: models: %s (cltrain train refuses it)\n", e.msg);
    model_free(&models[i]);
  }
  return EXIT_OK;
}
