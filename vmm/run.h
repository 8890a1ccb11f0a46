/* `ptvm run`: build a VM from the command line, run it, return its status. */
#ifndef PTVM_RUN_H
#define PTVM_RUN_H

int cmd_run(int argc, char **argv);

#endif
