#!/usr/bin/perl
# Command line: -V, -h, -n with a good and a bad file, bad usage; exit codes 0, 64, 78.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness qw(run_cmd tmpdir builddir);

my $bin = builddir() . '/src/processor';
plan skip_all => 'src/processor not built' unless -x $bin;
my $dir = tmpdir('cli');

my ($rc, $out, $err) = run_cmd([$bin, '-V']);
is($rc, 0, '-V exits 0');
like($out, qr/^processor \d+\.\d+\.\d+/, '-V prints the version');
($rc, $out) = run_cmd([$bin, '--version']);
like($out, qr/^processor /, '--version');
($rc, $out) = run_cmd([$bin, '-h']);
is($rc, 0, '-h exits 0');
like($out, qr/^usage: processor/, '-h prints usage');
($rc, $out, $err) = run_cmd([$bin, '-x']);
is($rc, 64, 'unknown option: 64');
($rc, $out, $err) = run_cmd([$bin, 'extra']);
is($rc, 64, 'stray argument: 64');

open(my $fh, '>', "$dir/good.conf") or die;
print $fh "[processor]\nworkers = 2\n";
close $fh;
($rc, $out, $err) = run_cmd([$bin, '-n', '-c', "$dir/good.conf"]);
is($rc, 0, '-n with a good file: 0') or diag($err);
like($out, qr/configuration OK/, 'says OK');

open($fh, '>', "$dir/bad.conf") or die;
print $fh "[processor]\nworkers = 2\nshutdown_timeout_ms = soon\n";
close $fh;
($rc, $out, $err) = run_cmd([$bin, '-n', '-c', "$dir/bad.conf"]);
is($rc, 78, '-n with a bad file: 78');
like($err, qr/bad\.conf:3: .*shutdown_timeout_ms/, 'one line naming file:line and key');
is(scalar(split /\n/, $err), 1, 'exactly one line');
($rc, $out, $err) = run_cmd([$bin, '-c', "$dir/bad.conf"]);
is($rc, 78, 'starting with a bad file: 78');
like($err, qr/"level":"critical".*configuration error: .*bad\.conf:3/, 'logged as a critical JSON line');
done_testing;
