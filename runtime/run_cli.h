/* run_cli.h - the `ueajc run` and `ueajc bench` commands (runtime/run_cli.c). */
#ifndef UEAJ_RUN_CLI_H
#define UEAJ_RUN_CLI_H

/* argv[0] is the command name ("run" / "bench"); returns the exit status. */
int ueaj_run_main(int argc, char **argv);
int ueaj_bench_main(int argc, char **argv);

#endif
