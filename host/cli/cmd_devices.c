/* cltrain devices: every OpenCL platform/device as a table or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cl/runtime.h"
#include "base/util.h"

static void devices_usage(FILE *out) {
  fprintf(out,
          "usage: cltrain devices [--json]\n"
          "\n"
          "List every OpenCL device: flat index, platform:device, name, type, compute units,\n"
          "global memory and OpenCL version. Select one elsewhere with --device INDEX, P:D or\n"
          "a case-insensitive substring of its name (or env CLTRAIN_DEVICE).\n"
          "\n"
          "  --json     machine-readable output\n"
          "  -h, --help this text\n");
}

/* The one option, --json. */
static int set_flag(void *json, int id, const char *arg, error *err) {
  (void)id, (void)arg, (void)err;
  *(bool *)json = true;
  return 0;
}

int cmd_devices(int argc, char **argv) {
  bool json = false;
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
  const struct option *tables[] = {opts, NULL};
  const cli_command c = {.cmd = "devices", .tables = tables, .help_fn = devices_usage, .apply = set_flag, .ctx = &json};
  int first = cli_parse(argc, argv, &c);
  if (first < argc) cli_usage_exit("devices: unexpected argument '%s'", argv[first]);

  device_list list;
  error e = {0};
  if (device_list_get(&list, &e)) return error_report(&e);
  if (json) {
    printf("[");
    for (int i = 0; i < list.count; i++) {
      const device_info *d = &list.items[i];
      printf("%s\n  {\"index\": %d, \"platform\": %d, \"device\": %d, \"name\": ", i ? "," : "",
             d->flat, d->platform_index, d->device_index);
      json_write_string(stdout, d->name);
      printf(", \"platform_name\": ");
      json_write_string(stdout, d->platform_name);
      printf(", \"type\": \"%s\", \"compute_units\": %u, \"global_mem_bytes\": %llu, \"version\": ",
             device_type_name(d->type), d->compute_units, (unsigned long long)d->global_mem);
      json_write_string(stdout, d->version);
      printf(", \"driver\": ");
      json_write_string(stdout, d->driver);
      printf("}");
    }
    printf("%s]\n", list.count ? "\n" : "");
  } else if (list.count == 0) {
    printf("no OpenCL device found (install an ICD, e.g. the Debian package pocl-opencl-icd)\n");
  } else {
    /* The name column is as wide as the longest name: a name is never cut. */
    int w = 4;
    for (int i = 0; i < list.count; i++) {
      int len = (int)strlen(list.items[i].name);
      w = len > w ? len : w;
    }
    printf("%-5s %-5s %-*s %-5s %4s %10s  %s\n", "index", "P:D", w, "name", "type", "CUs", "memory", "OpenCL");
    for (int i = 0; i < list.count; i++) {
      const device_info *d = &list.items[i];
      char pd[16];
      snprintf(pd, sizeof pd, "%d:%d", d->platform_index, d->device_index);
      printf("%-5d %-5s %-*s %-5s %4u %7.1f GiB  %s\n", d->flat, pd, w, d->name,
             device_type_name(d->type), d->compute_units,
             (double)d->global_mem / (1024.0 * 1024.0 * 1024.0), d->version);
    }
  }
  device_list_free(&list);
  return EXIT_OK;
}
