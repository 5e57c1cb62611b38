# harness area fragment (included by Makefile.am)
