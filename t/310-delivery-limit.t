#!/usr/bin/perl
# Fault suite 7: a payload that crashes the decoder (test-only fault hook) is dead-lettered
# after max_deliveries, undecoded, and its neighbours are neither lost nor dead-lettered.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

Harness::need('fault');
my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $MAX = 3;

my $g = Harness::gen(redis => $r, n => 1_000, devices => 10, seed => 21);
my $killer = $r->cmd('XADD', $S, '*', 'payload',
    '{"device_id":"CRASHME","timestamp":0,"latitude":1,"longitude":1}');
my $g2 = Harness::gen(redis => $r, n => 1_000, devices => 10, seed => 22,
    base_ms => 1_900_000_000_000);

# The worker dies on the killer each time; its master restarts the slot, whose pending
# replay makes the entry's delivery count grow until the limit.
my $dlq_has_killer = sub {
	grep { my %f = @{$_->[1]}; $f{id} eq $killer } @{$r->cmd('XRANGE', "$S:dlq", '-', '+')};
};
my $p = Harness::Processor->start(redis => $r, pg => $pg, expect_critical => 1,
    env => { PROCESSOR_FAULT => 'abort_on_payload=CRASHME' },
    config => { redis => { consumer_prefix => 'dl', block_ms => 200, batch_size => 100,
        max_deliveries => $MAX }, processor => { workers => 2, max_restarts => 10 } });
ok(wait_until(sub { $dlq_has_killer->() }, timeout => 90, desc => 'killer dead-lettered'),
    'the master kept restarting the slot until the entry was dead-lettered');
my @reports = grep { ($_->{message} // '') =~
    /worker crashed: signal 6 \(ABRT\) while working on entry \Q$killer\E/ } $p->log_lines;
my $crashes = grep { ($_->{message} // '') =~ /exited with code 3/ } $p->log_lines;
my $reports = @reports;
ok($crashes >= $MAX, "the worker crashed on the entry ($crashes times), exit code 3 each time");
ok(scalar $dlq_has_killer->(), 'the killer entry reached the DLQ');
my ($f) = map { +{ @{$_->[1]} } } grep { my %x = @{$_->[1]}; $x{id} eq $killer }
    @{$r->cmd('XRANGE', "$S:dlq", '-', '+')};
is($f->{reason}, 'delivery_limit', 'reason delivery_limit');
is($f->{stage}, 'delivery-limit', 'stage delivery-limit');
cmp_ok($f->{deliveries}, '>', $MAX, "delivered more than max_deliveries ($f->{deliveries})");
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} + $g2->{valid}
    && $r->pending($S, 'processor') == 0 }, timeout => 60, desc => 'drained'),
    'every neighbour stored, nothing pending');
is($r->xlen("$S:dlq"), 1, 'no innocent neighbour dead-lettered');
Harness::expect_rows($pg, [$g, $g2]);	# the neighbours stored, by content
ok($p->running, 'the worker runs on after the killer is gone');
is($reports, $crashes, 'each crash left a report naming the signal and the entry');
is($p->stop, 0, 'clean exit');
done_testing;
