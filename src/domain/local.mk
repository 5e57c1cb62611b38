# domain area fragment (included by Makefile.am)
