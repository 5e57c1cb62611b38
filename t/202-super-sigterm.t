#!/usr/bin/perl
# SIGTERM under load: workers finish and ACK what they read, the master exits 0, nothing is lost.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my ($r, $pg, $p) = Harness::stack(ready => 60, notify => 1,
    config => { processor => { workers => 4 }, redis => { batch_size => 100 } });
# Slow batches, so batches are in flight when SIGTERM arrives, on any machine.
$pg->slow_writes(0.05);
my $sum = Harness::gen(redis => $r, n => 80_000, devices => 500);
ok(wait_until(sub { $pg->psql('select count(*) from positions') > 3000 }, timeout => 60,
    desc => 'some rows'), 'load under way');
my @workers = $p->children;
$p->signal('TERM');
my $rc = $p->wait_exit(60);
is($rc, 0, 'master exits 0 after SIGTERM');
ok(!(grep { Harness::pid_alive($_) } @workers), 'no worker left behind');
ok($p->wait_notify(qr/^STOPPING=1/m, 5), 'STOPPING=1 sent');
ok(!$p->wait_log(qr/did not stop in time/, 0.1, quiet => 1), 'nobody was SIGKILLed');

# Every entry the group handed out was committed and ACKed: nothing pending, and
# the rows equal the entries read (gen publishes distinct valid records).
is($r->pending('telemetry:t', 'processor'), 0, 'nothing pending after the drain');
my $groups = $r->cmd('XINFO', 'GROUPS', 'telemetry:t');
my %g = @{$groups->[0]};
my $rows = $pg->psql('select count(*) from positions');
is($rows, $g{'entries-read'}, "rows ($rows) == entries delivered to the group");
cmp_ok($rows, '<', $sum->{published}, 'stopped mid-load (the test means something)');
$p->check_log;
done_testing;
