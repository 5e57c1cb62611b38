#!/usr/bin/perl
# An idle SIGTERM does not wait out a blocked XREADGROUP: the waiting read is unblocked
# (CLIENT UNBLOCK), nothing is left pending, and a record published after the stop is
# still there for the next start.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use Time::HiRes qw(time);

# BLOCK 20 s: waiting it out would take far longer than the bound asserted below.
my $BLOCK_MS = 20_000;
my ($r, $pg, $p) = Harness::stack(ready => 60,
    config => { processor => { workers => 2 }, redis => { block_ms => $BLOCK_MS } });
my $g = Harness::gen(redis => $r, n => 200, devices => 5);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} }, timeout => 60,
    desc => 'rows'), 'the records landed');

# Both workers are now waiting inside XREADGROUP ... BLOCK.
my $blocked = sub {
	my $list = $r->cmd('CLIENT', 'LIST');
	return scalar grep { /\bcmd=xreadgroup\b/ && /\bflags=\S*b/ } split /\n/, $list;
};
ok(wait_until(sub { $blocked->() >= 2 }, timeout => 10, desc => 'blocked reads'),
    'two reads are blocked in Redis');

my $t0 = time;
$p->signal('TERM');
my $rc = $p->wait_exit(30);
my $took = time - $t0;
is($rc, 0, 'exit status 0');
cmp_ok($took, '<', $BLOCK_MS / 1000 / 4, sprintf('stopped in %.2f s, not after the %d s block',
    $took, $BLOCK_MS / 1000));
is($blocked->(), 0, 'no read is left blocked in Redis');
is($r->pending('telemetry:t', 'processor'), 0, 'nothing pending: the interrupted reads took no entry');

# A record published now waits for the next start (the group did not skip it).
my $g2 = Harness::gen(redis => $r, n => 10, devices => 1, seed => 99, base_ms => 1_900_000_000_000);
my $p2 = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 1 }, redis => { block_ms => 500 } });
ok($p2->wait_ready(60), 'restarted');
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} + $g2->{valid} },
    timeout => 60, desc => 'all rows'), 'the later records are read by the next start');
is($p2->stop, 0, 'clean stop');
$p->check_log;
$p2->check_log;
done_testing;
