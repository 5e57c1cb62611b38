#!/usr/bin/perl
# Consumers: processorctl consumers lists them; a dead consumer's pending entries are claimed
# before it is deleted (never dropped); a second master with the same consumer names refuses
# to start while the first one reads, and starts once it is gone.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use CtlTest;

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $g = Harness::gen(redis => $r, n => 200, devices => 4, seed => 76);
# A consumer of a dead instance, holding 10 entries it never settled.
$r->cmd('XGROUP', 'CREATE', $S, 'processor', '0', 'MKSTREAM');
my $held = $r->cmd('XREADGROUP', 'GROUP', 'processor', 'old-0', 'COUNT', 10, 'STREAMS', $S, '>');
is(scalar @{$held->[0][1]}, 10, 'old-0 holds 10 entries');

sub start
{
	my (%o) = @_;
	my $startup = delete $o{startup_timeout_ms} // 60000;
	return Harness::Processor->start(redis => $r, pg => $pg, %o, config => {
	    processor => { workers => 2, startup_timeout_ms => $startup },
	    redis => { consumer_prefix => 'cs', block_ms => 200, claim_idle_ms => 60000,
		claim_interval_ms => 3600000 } });
}
my $p = start();
ok($p->wait_ready(60), 'processor ready');
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} - 10 },
    timeout => 30, desc => 'rows'), 'every entry but the dead consumer\'s is stored');
# A row is stored before its entry is acknowledged: wait for the XACKs too, so that the
# pending count below shows what the refused deletes did, not a batch still settling.
ok(wait_until(sub { $r->pending($S, 'processor') == 10 }, timeout => 30, desc => 'acked'),
    'and acknowledged: only the dead consumer\'s 10 are pending');

my ($rc, $j) = ctl_json($p, 'consumers');
is($rc, 0, 'consumers exits 0');
my %c = map { $_->{name} => $_ } @{$j->{consumers} // []};
is_deeply([sort keys %c], [qw(cs-0 cs-1 old-0)], 'the group\'s three consumers');
is($c{'old-0'}{pending}, 10, 'old-0: 10 pending');
ok(!$c{'old-0'}{ours} && $c{'cs-0'}{ours} && $c{'cs-1'}{ours}, 'ours are marked');
cmp_ok($c{'cs-0'}{idle_ms}, '<', 5000, 'a live worker reads often (small idle)');

my ($out, $err);
($rc, $out, $err) = ctl($p, 'consumers', 'delete', 'cs-0');
isnt($rc, 0, 'a running worker of ours cannot be deleted');
like($err, qr/cs-0 is a running worker of this master/, '... and says so');
($rc, $out, $err) = ctl($p, 'consumers', 'delete', 'old-0');
isnt($rc, 0, 'a consumer with pending entries is not deleted without --force');
like($err, qr/old-0 holds 10 pending entries; --force claims them/, '... and says why');
is($r->pending($S, 'processor'), 10, 'nothing changed');
($rc, $out, $err) = ctl($p, 'consumers', 'delete', 'nobody');
like($err, qr/no consumer nobody in group processor/, 'an unknown consumer is named');

($rc, $j) = ctl_json($p, 'consumers', 'delete', 'old-0', '--force');
is($rc, 0, 'delete --force exits 0');
is($j->{claimed}, 10, 'its 10 entries were claimed first');
is($j->{pending_dropped}, 0, 'so DELCONSUMER dropped nothing');
($rc, $j) = ctl_json($p, 'consumers');
ok(!grep({ $_->{name} eq 'old-0' } @{$j->{consumers}}), 'old-0 is gone from the group');
($rc) = ctl($p, 'claim');
is($rc, 0, 'claim sweeps now');
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} &&
    $r->pending($S, 'processor') == 0 }, timeout => 30, desc => 'claimed rows'),
    'the claimed entries are stored and acknowledged: nothing lost');

# A second master with the same consumer names while the first reads: it waits for the names
# to be released (a killed master's workers finish their batches), then refuses.
my $p2 = start(expect_critical => 1, startup_timeout_ms => 3000);
ok($p2->wait_log(qr/consumer names.*in use by another process/, 10),
    'the second master waits, saying which name is in use');
my $x = $p2->wait_exit(30);
is($x, 78, 'a second master with the same consumer_prefix exits 78');
ok($p2->wait_log(qr/refusing to start: consumer cs-\d of group processor is in use by another process/,
    1), 'and names the consumer in use');
ok($p->running, 'the first master runs on');
is($p->stop, 0, 'the first master stops');
my $p3 = start();
ok($p3->wait_ready(60), 'once it is gone, the same names start (after the idle check)');
is($p3->stop, 0, 'clean stop');
$p->check_log;
done_testing;
