/* Driver for the C export test (tests/cli_export.sh): reads rows of 16 numbers from stdin
   and prints the 5 probabilities of the generated model for each. Built with
   -DHEADER='"NAME.h"' -DPREDICT=NAME_predict against the generated NAME.c. */
#include <stdio.h>

#include HEADER

int main(void) {
  float x[16], p[5];
  for (;;) {
    for (int j = 0; j < 16; j++)
      if (scanf("%f", &x[j]) != 1) return j == 0 ? 0 : 1;
    PREDICT(x, p);
    for (int c = 0; c < 5; c++) printf("%.9g%c", p[c], c == 4 ? '\n' : ' ');
  }
}
