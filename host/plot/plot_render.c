/* The gnuplot driver: find gnuplot, build each figure's program (preamble + shared style +
   script, once for PNG and once for SVG), pipe it in with popen, check the exit status and
   the files it wrote. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/embedded.h"
#include "plot/plot_internal.h"
#include "base/util.h"

void plotter_init(plotter *p) {
  memset(p, 0, sizeof *p);
  const char *path = getenv("PATH");
  if (!path) return;
  while (*path) {
    size_t len = strcspn(path, ":");
    char cand[sizeof p->gnuplot];
    /* An empty PATH entry means the current directory, as for the shell. */
    int w = len ? snprintf(cand, sizeof cand, "%.*s/gnuplot", (int)len, path)
                : snprintf(cand, sizeof cand, "./gnuplot");
    struct stat st;
    if (w > 0 && (size_t)w < sizeof cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
        access(cand, X_OK) == 0) {
      memcpy(p->gnuplot, cand, (size_t)w + 1);
      return;
    }
    path += len;
    if (*path == ':') path++;
  }
}

bool plotter_has_gnuplot(const plotter *p) { return p->gnuplot[0] != '\0'; }

/* TIC: the string is a tic label, which gnuplot reads as a format: '%' must be doubled. */
static void quote(FILE *f, const char *s, bool tic) {
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'') fputs("''", f);
    else if (*s == '%' && tic) fputs("%%", f);
    else if ((unsigned char)*s < 0x20 || *s == 0x7f) fputc(' ', f);
    else fputc(*s, f);
  }
  fputc('\'', f);
}

void gp_string(FILE *f, const char *s) { quote(f, s, false); }

void gp_number(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.9g", v);
  else fputs("NaN", f);
}

void gp_set_string(FILE *f, const char *name, const char *value) {
  fprintf(f, "%s = ", name);
  gp_string(f, value ? value : "");
  fputc('\n', f);
}

static void string_array(FILE *f, const char *name, const char *const *values, size_t n,
                         bool tic) {
  fprintf(f, "array %s[%zu] = [", name, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    if (i) fputc(',', f);
    quote(f, values[i], tic);
  }
  if (!n) gp_string(f, "");
  fputs("]\n", f);
}

void gp_string_array(FILE *f, const char *name, const char *const *values, size_t n) {
  string_array(f, name, values, n, false);
}

void gp_tic_array(FILE *f, const char *name, const char *const *values, size_t n) {
  string_array(f, name, values, n, true);
}

void figure_title(char *buf, size_t n, const char *text, const char *title) {
  if (title && *title) snprintf(buf, n, "%s \xe2\x80\x94 %s", text, title); /* em dash */
  else snprintf(buf, n, "%s", text);
}

int path_join(char *buf, size_t n, const char *dir, const char *name, char *err, size_t errlen) {
  int w = snprintf(buf, n, "%s/%s", dir, name);
  if (w < 0 || (size_t)w >= n) return seterr(err, errlen, "path too long: %s/%s", dir, name);
  return 0;
}

int figure_begin(figure *f, const char *out_dir, const char *prefix, const char *name,
                 char *err, size_t errlen) {
  memset(f, 0, sizeof *f);
  int w = prefix && *prefix ? snprintf(f->name, sizeof f->name, "%s_%s", prefix, name)
                            : snprintf(f->name, sizeof f->name, "%s", name);
  if (w < 0 || (size_t)w >= sizeof f->name) {
    seterr(err, errlen, "figure name too long: %s_%s", prefix, name);
    return PLOT_BAD_INPUT;
  }
  if (make_dirs(out_dir, err, errlen) != 0) return PLOT_FAILED;
  char csv[sizeof f->base + 8];
  if (path_join(f->base, sizeof f->base - 8, out_dir, f->name, err, errlen) != 0)
    return PLOT_BAD_INPUT;
  snprintf(csv, sizeof csv, "%s.csv", f->base);
  f->csv = fopen(csv, "w");
  if (!f->csv) {
    seterr(err, errlen, "cannot write %s: %s", csv, strerror(errno));
    return PLOT_FAILED;
  }
  f->gp = open_memstream(&f->gp_text, &f->gp_len);
  if (!f->gp) {
    seterr(err, errlen, "open_memstream: %s", strerror(errno));
    fclose(f->csv);
    f->csv = NULL;
    remove(csv);
    return PLOT_FAILED;
  }
  return PLOT_OK;
}

static void remove_ext(const figure *f, const char *ext) {
  char path[sizeof f->base + 8];
  snprintf(path, sizeof path, "%s%s", f->base, ext);
  remove(path);
}

/* The full program gnuplot reads: the figure's preamble, then for each output format the
   terminal, a reset, the shared style and the figure's script. NULL with err on failure. */
static char *gnuplot_program(const figure *f, const char *script, int width, int height, size_t *len, char *err,
                             size_t errlen) {
  char script_name[300];
  snprintf(script_name, sizeof script_name, "plots/%s.gp", script);
  const embedded_file *style_file = embedded_find("plots/style.gp"), *body_file = embedded_find(script_name);
  if (!style_file || !body_file) {
    seterr(err, errlen, "gnuplot script %s is not embedded in the binary", style_file ? script_name : "plots/style.gp");
    return NULL;
  }
  const char *style = style_file->data, *body = body_file->data;
  char *text = NULL;
  FILE *m = open_memstream(&text, len);
  if (!m) {
    seterr(err, errlen, "open_memstream: %s", strerror(errno));
    return NULL;
  }
  fputs("# generated by cltrain\nset encoding utf8\n", m);
  fwrite(f->gp_text, 1, f->gp_len, m);
  static const char *const terminals[2][2] = {
      {"pngcairo", ".png"},
      {"svg", ".svg"},
  };
  for (int t = 0; t < 2; t++) {
    char out[sizeof f->base + 8];
    snprintf(out, sizeof out, "%s%s", f->base, terminals[t][1]);
    fprintf(m, "set terminal %s size %d,%d enhanced font 'DejaVu Sans,%d' %s background rgb 'white'\n",
            terminals[t][0], width, height, 11, t == 0 ? "" : "dynamic fontscale 1.33");
    fputs("set output ", m);
    gp_string(m, out);
    fputs("\nreset\n", m);
    fputs(style, m);
    fputc('\n', m);
    fputs(body, m);
    fputs("\nunset multiplot\nunset output\n", m);
  }
  if (fclose(m) != 0) {
    seterr(err, errlen, "building the gnuplot program: %s", strerror(errno));
    free(text);
    return NULL;
  }
  return text;
}

/* Append S to CMD (capacity N, used *len) as a single-quoted shell word. */
static void shell_word(char *cmd, size_t n, size_t *len, const char *s) {
  size_t i = *len;
  if (i + 1 < n) cmd[i++] = '\'';
  for (; *s && i + 6 < n; s++) {
    if (*s == '\'') {
      memcpy(cmd + i, "'\\''", 4);
      i += 4;
    } else {
      cmd[i++] = *s;
    }
  }
  if (i + 1 < n) cmd[i++] = '\'';
  cmd[i] = '\0';
  *len = i;
}

/* Run gnuplot on PROGRAM with its messages going to the file MESSAGES. SIGPIPE is held
   back while writing so that a gnuplot dying early shows up as its exit status, not as our
   death. Returns the wait status, or -1 with errno. */
static int run_gnuplot(const char *gnuplot, const char *messages, const char *program, size_t len) {
  char cmd[3 * 4096 + 64];
  size_t n = 0;
  shell_word(cmd, sizeof cmd, &n, gnuplot);
  n += (size_t)snprintf(cmd + n, sizeof cmd - n, " -d >/dev/null 2>");
  shell_word(cmd, sizeof cmd, &n, messages);

  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  fflush(NULL); /* the child must not inherit unflushed output */
  FILE *g = popen(cmd, "w");
  int status = -1;
  if (g) {
    fwrite(program, 1, len, g);
    fflush(g);
    status = pclose(g);
  }
  int saved = errno;
  sigset_t pending;
  struct timespec zero = {0, 0};
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE)) sigtimedwait(&pipe_set, NULL, &zero);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return status;
}

/* The line of gnuplot's messages that says what went wrong ("line 12: undefined variable:
   x"), else its last non-blank line; "" when it said nothing. */
static void first_error(const char *messages, char *out, size_t n) {
  out[0] = '\0';
  char *text = read_file(messages, NULL);
  if (!text) return;
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    while (*l == ' ' || *l == '\t') l++;
    if (!*l || *l == '^' || strncmp(l, "gnuplot>", 8) == 0) continue; /* echo of the input */
    snprintf(out, n, "%s", l);
    if (strncmp(l, "line ", 5) == 0) break;
  }
  free(text);
}

static bool file_starts_with(const char *path, const char *magic, size_t n) {
  char buf[16];
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  size_t got = fread(buf, 1, n, f);
  fclose(f);
  return got == n && memcmp(buf, magic, n) == 0;
}

static int draw(plotter *p, figure *f, const char *script, int width, int height, char *err,
                size_t errlen) {
  size_t len;
  char *program = gnuplot_program(f, script, width, height, &len, err, errlen);
  if (!program) return PLOT_FAILED;
  /* gnuplot's chatter (e.g. range warnings) is kept out of our output; on failure its
     first error becomes part of our one-line message. */
  const char *tmpdir = getenv("TMPDIR");
  char messages[4096];
  snprintf(messages, sizeof messages, "%s/cltrain-gnuplot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  int fd = mkstemp(messages);
  if (fd < 0) {
    free(program);
    seterr(err, errlen, "cannot create a temporary file %s: %s", messages, strerror(errno));
    return PLOT_FAILED;
  }
  close(fd);
  int status = run_gnuplot(p->gnuplot, messages, program, len);
  free(program);
  char said[512];
  first_error(messages, said, sizeof said);
  remove(messages);
  char png[sizeof f->base + 8], svg[sizeof f->base + 8];
  snprintf(png, sizeof png, "%s.png", f->base);
  snprintf(svg, sizeof svg, "%s.svg", f->base);
  const char *why = NULL;
  char buf[700];
  if (status == -1) {
    why = strerror(errno);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status)) snprintf(buf, sizeof buf, "exit status %d%s%s", WEXITSTATUS(status),
                                    said[0] ? ": " : "", said);
    else snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
    why = buf;
  } else if (!file_starts_with(png, "\x89PNG\r\n\x1a\n", 8) || !file_starts_with(svg, "<?xml", 5)) {
    why = "it exited 0 but the PNG or SVG file is missing or not valid";
  }
  if (why) {
    remove_ext(f, ".png");
    remove_ext(f, ".svg");
    seterr(err, errlen, "gnuplot (%s) failed drawing %s: %s", p->gnuplot, f->name, why);
    return PLOT_FAILED;
  }
  return PLOT_OK;
}

int figure_finish(plotter *p, figure *f, const char *script, int width, int height, char *err,
                  size_t errlen) {
  bool csv_bad = ferror(f->csv) != 0;
  csv_bad |= fclose(f->csv) != 0;
  f->csv = NULL;
  int rc = PLOT_OK;
  if (csv_bad) {
    rc = PLOT_FAILED;
    seterr(err, errlen, "writing %s.csv failed: %s", f->base, strerror(errno));
  }
  if (fclose(f->gp) != 0 && rc == PLOT_OK) {
    rc = PLOT_FAILED;
    seterr(err, errlen, "building the gnuplot preamble: %s", strerror(errno));
  }
  f->gp = NULL;
  if (rc == PLOT_OK && plotter_has_gnuplot(p)) {
    rc = draw(p, f, script, width, height, err, errlen);
    if (rc == PLOT_OK) {
      p->drawn++;
      if (!p->quiet) printf("figure %s: %s.png %s.svg %s.csv\n", f->name, f->base, f->base, f->base);
    }
  } else if (rc == PLOT_OK) {
    if (!p->warned)
      warnf("gnuplot not found on PATH: writing figure data as CSV only (install gnuplot for PNG/SVG)");
    p->warned = true;
    p->data_only++;
    if (!p->quiet) printf("figure %s: %s.csv (data only)\n", f->name, f->base);
  }
  free(f->gp_text);
  f->gp_text = NULL;
  return rc;
}
