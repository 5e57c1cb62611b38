#!/usr/bin/perl
# A worker that does not stop within shutdown_timeout_ms is SIGKILLed and the master exits 1.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use Time::HiRes qw(time);

my ($r, $pg, $p) = Harness::stack(ready => 60, expect_critical => 0,
    config => { processor => { workers => 2, shutdown_timeout_ms => 1500 },
        redis => { block_ms => 200 } });
my ($wedged, $other) = sort { $a <=> $b } $p->children;
kill 'STOP', $wedged;
my $t = time;
$p->signal('TERM');
my $rc = $p->wait_exit(30);
my $took = time - $t;
is($rc, 1, 'exit 1 when a worker had to be killed');
cmp_ok($took, '>=', 1.4, 'after waiting shutdown_timeout_ms');
cmp_ok($took, '<', 10, 'but not much longer');
ok($p->wait_log(qr/"worker \d+ \(pid $wedged\) did not stop in time; killing it"/, 1),
    'the straggler is named');
ok($p->wait_event(event => 'killed', pid => $wedged, signal => 9, timeout => 1), 'and reaped');
ok($p->wait_event(event => 'exited', pid => $other, exit_code => 0, timeout => 1),
    'the other drained normally');
ok(!Harness::pid_alive($wedged) && !Harness::pid_alive($other), 'nothing left');
$p->check_log;
done_testing;
