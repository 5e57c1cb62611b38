#!/usr/bin/perl
# packaging/bash-completion/processorctl: valid bash, and it offers every command and option
# processorctl --help lists.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use CtlTest;

my $file = Harness::srcdir() . '/packaging/bash-completion/processorctl';
ok(-f $file, 'the completion file exists') or BAIL_OUT('no completion file');
my ($rc, undef, $err) = Harness::run_cmd(['bash', '-n', $file]);
is($rc, 0, 'bash -n accepts it') or diag($err);
my $text = Harness::slurp($file);
my $out;
($rc, $out) = Harness::run_cmd([ctl_bin(), '--help']);
is($rc, 0, '--help');
my ($cmds) = $out =~ /^commands:\n(.*?)\n\n/ms;
my %words;
for (split /\n/, $cmds // '') {
	my ($w1, $w2) = /^\s+([a-z-]+)(?: ([a-z]+))?/ or next;
	$words{$w1} = 1;
	$words{$w2} = 1 if defined $w2 && $w1 eq 'dlq';
	$words{$_} = 1 for /(--[a-z]+)/g;
}
$words{$_} = 1 for $out =~ /^\s+(?:-\w, )?(--[a-z]+)/mg;
cmp_ok(scalar keys %words, '>=', 15, 'found the words of --help');
for my $w (sort keys %words) {
	like($text, qr/(?<![\w-])\Q$w\E(?![\w-])/, "completes $w");
}
done_testing;
