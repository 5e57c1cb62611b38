# supervisor area fragment (included by Makefile.am)
