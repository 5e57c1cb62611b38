# codec area fragment (included by Makefile.am)
