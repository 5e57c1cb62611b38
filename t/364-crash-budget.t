#!/usr/bin/perl
# Issue 14: under the default max_deliveries and max_restarts, one record that crashes workers
# (test fault hook) plus one unrelated worker death within the restart window must not stop the
# daemon: the record is dead-lettered with reason delivery_limit, its neighbours are stored.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

Harness::need('fault');
my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $g = Harness::gen(redis => $r, n => 300, devices => 5, seed => 64);
my $kpay = '{"device_id":"CRASHME","timestamp":0,"latitude":1,"longitude":1}';
my $killer = $r->cmd('XADD', $S, '*', 'payload', $kpay);
my $g2 = Harness::gen(redis => $r, n => 300, devices => 5, seed => 65, base_ms => 1_700_000_000_000);

# No max_deliveries, max_restarts or restart_window_ms: the daemon's defaults.
my $p = Harness::Processor->start(redis => $r, pg => $pg, expect_critical => 1,
    env => { PROCESSOR_FAULT => 'abort_on_payload=CRASHME' },
    config => { redis => { consumer_prefix => 'cb', block_ms => 200 },
        processor => { workers => 2 } });
ok($p->wait_log(qr/fault injection: aborting on entry/, 60), 'a worker crashed on the record');
# The unrelated death: kill the other worker (or the same slot's respawn) once.
my @kids = $p->children;
ok(@kids >= 1, 'workers running');
kill 'KILL', $kids[0] if @kids;

my $dlq_has_killer = sub {
	grep { my %f = @{$_->[1]}; $f{id} eq $killer } @{$r->cmd('XRANGE', "$S:dlq", '-', '+')};
};
ok(wait_until(sub { $dlq_has_killer->() || !$p->running }, timeout => 120,
    desc => 'killer dead-lettered'), 'the record reached the DLQ or the daemon stopped');
ok($p->running, 'the daemon survived the crashes and the unrelated death');
my ($f) = map { +{ @{$_->[1]} } } grep { my %x = @{$_->[1]}; $x{id} eq $killer }
    @{$r->cmd('XRANGE', "$S:dlq", '-', '+')};
is($f->{reason} // '', 'delivery_limit', 'dead-lettered with reason delivery_limit');
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} + $g2->{valid}
    && $r->pending($S, 'processor') == 0 }, timeout => 60, desc => 'drained'),
    'every neighbour stored, nothing pending');
Harness::expect_rows($pg, [$g, $g2], name => 'the neighbours stored once, column by column');
Harness::expect_dlq($r, { $killer => [$kpay, 'delivery_limit'] },
    name => 'only the crashing record dead-lettered');
ok(!grep({ ($_->{message} // '') =~ /giving up/ } $p->log_lines), 'the master did not give up');
is($p->stop, 0, 'clean exit');
done_testing;
