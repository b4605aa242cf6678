/* One entry point per sub-command: cltrain ACTION [args]. argv[0] is the action name.
   Each returns the process exit code (see util.h). */
#ifndef CLTRAIN_COMMANDS_H
#define CLTRAIN_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_lab1(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_predict(int argc, char **argv);

#endif
