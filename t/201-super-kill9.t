#!/usr/bin/perl
# kill -9 one worker mid-load: the slot is respawned, its pending entries finish, counters carry on.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use HTTP::Tiny;

my ($r, $pg, $p) = Harness::stack(ready => 60,
    config => { processor => { workers => 3 }, redis => { batch_size => 200 } });

sub metrics { $p->metrics // {} }

# Slow batches (20 ms each), so that the load lasts seconds and the victim is caught
# holding entries: unslowed, 60 000 records can be stored before the kill.
$pg->slow_writes(0.02);
my $sum = Harness::gen(redis => $r, n => 60_000, devices => 300);
ok(wait_until(sub { $pg->psql('select count(*) from positions') > 5000 }, timeout => 60,
    desc => 'some rows'), 'load under way');

my $mark = $p->mark;
my $victim = (sort { $a <=> $b } $p->children)[1];
my $started = $p->wait_event(event => 'started', pid => $victim, timeout => 1);
my $slot = $started ? $started->{worker} : undef;
ok(defined $slot, "victim $victim is worker $slot");
my $up = $p->wait_event(event => 'up', pid => $victim, timeout => 1);
my ($consumer) = ($up->{message} // '') =~ /as consumer (\S+)/;
ok(defined $consumer, "victim is consumer $consumer");
my $m0 = metrics();
# Not a tautology: the kill must catch the worker holding read-but-unsettled entries.
my $held = 0;
wait_until(sub { $held = Harness::pending_by_consumer($r, 'telemetry:t', 'processor')->{$consumer} // 0;
    $held > 0 }, timeout => 10, quiet => 1);
kill 'KILL', $victim;
cmp_ok($held, '>', 0, "the victim held $held pending entries when it was killed");
ok($p->wait_event(event => 'killed', worker => $slot, pid => $victim, signal => 9,
    timeout => 10, from => $mark),
    'the death is logged with slot, pid and signal');
my $again = $p->wait_event(event => 'started', worker => $slot, timeout => 10, from => $mark);
ok($again, "slot $slot respawned");
ok($p->wait_event(event => 'up', worker => $slot, timeout => 30, from => $mark),
    'the new worker said hello');

ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} },
    timeout => 180, desc => 'all rows'), 'every row landed');
ok(wait_until(sub { $r->pending('telemetry:t', 'processor') == 0 }, timeout => 60,
    desc => 'pending'), 'the dead worker\'s pending entries were finished');
is(Harness::pending_by_consumer($r, 'telemetry:t', 'processor')->{$consumer} // 0, 0,
    "the respawned $consumer replayed and settled what the victim held");
ok($p->wait_log(qr/pending entries of \Q$consumer\E replayed/, 5, from => $mark),
    'the respawned worker replayed its pending list');
Harness::expect_rows($pg, [$sum]);

my $m;
# A SIGKILLed worker's last half second of counts never reaches the master, so
# totals may fall short of the published count; they must never go backwards.
$m = metrics();
# process_cpu_seconds_total belongs to the process: a new worker starts again at 0
my @back = grep { /^processor_.*_total/ && defined $m0->{$_} && ($m->{$_} // 0) < $m0->{$_} } keys %$m0;
ok(!@back && $p->metric_sum($m, 'processor_records_acked_total')
    > $p->metric_sum($m0, 'processor_records_acked_total'),
    'no counter went backwards across the restart') or diag(explain [map { "$_: $m0->{$_} -> $m->{$_}" } @back]);
is($m->{"processor_worker_restarts_total{worker=\"$slot\"}"}, 1, 'restart counter of the slot is 1');
is(scalar(grep { /^processor_records_acked_total\{worker="[0-2]"\}$/ } keys %$m), 3,
    'one acked series per slot');
cmp_ok($m->{"processor_records_consumed_total{worker=\"$slot\"}"}, '>', 0,
    'the slot keeps its earlier life\'s counts');
is($p->stop, 0, 'clean stop');
done_testing;
