# config area fragment (included by Makefile.am)
