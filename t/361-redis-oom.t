#!/usr/bin/perl
# Issue 14: Redis at maxmemory with noeviction refuses XADD and XGROUP CREATE (OOM) but still
# serves reads and XACK.  The master must start when the group exists (look before creating);
# a batch whose dead letter is refused is retried with backoff, counted, and /readyz says why;
# once memory is freed the entry is dead-lettered and ACKed.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(time);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
$r->cmd('XGROUP', 'CREATE', $S, 'processor', '0', 'MKSTREAM');
my $g = Harness::gen(redis => $r, n => 100, devices => 5, seed => 61);
my $bad = '{"device_id":"oom",';
my $id = $r->cmd('XADD', $S, '*', 'payload', $bad);
$r->cmd('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
$r->cmd('CONFIG', 'SET', 'maxmemory', '1');
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { redis => { consumer_prefix => 'oom', block_ms => 200, batch_size => 500 },
        processor => { workers => 1, startup_timeout_ms => 20000 } });
ok($p->wait_log(qr/consuming stream telemetry:t group processor/, 30),
    'workers start under OOM: the group exists, nothing to create');
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid} }, timeout => 30,
    desc => 'rows'), 'the good records are written');

my $ready;
ok(wait_until(sub { $ready = $p->readyz;
	$ready->{status} == 503 && $ready->{reason} =~ /settle failing/ }, timeout => 30,
    desc => '503 settle failing'), '/readyz 503 while the batch cannot settle');
like($ready->{reason}, qr/^worker 0: settle failing/, "with the reason ($ready->{reason})");

my $errs = sub { $p->metric_sum($p->metrics, 'processor_settle_errors_total') // 0 };
my ($t1, $t5);
ok(wait_until(sub { $errs->() >= 1 }, timeout => 20, desc => 'first settle error'),
    'processor_settle_errors_total counts failed settles');
$t1 = time;
ok(wait_until(sub { $errs->() >= 5 }, timeout => 30, desc => 'five settle errors'),
    'settles keep being retried');
$t5 = time;
cmp_ok($t5 - $t1, '>=', 1.0, sprintf('retries back off (4 retries took %.2f s)', $t5 - $t1));
my $lines = grep { ($_->{level} // '') eq 'error' } $p->log_lines;
cmp_ok($lines, '<=', 3 * $errs->() + 5, "error lines bounded by the retries ($lines)");
ok(!grep({ ($_->{message} // '') =~ /XGROUP CREATE .* failed/ } $p->log_lines),
    'no XGROUP CREATE failure logged');
is(scalar(grep { $_->[0] eq $id } @{$r->cmd('XPENDING', $S, 'processor', '-', '+', 1000)}), 1,
    'the poison entry stays pending');

$r->cmd('CONFIG', 'SET', 'maxmemory', '0');
ok(wait_until(sub { $r->xlen("$S:dlq") >= 1 && $r->pending($S, 'processor') == 0 },
    timeout => 30, desc => 'settled'), 'memory freed: dead-lettered and ACKed');
Harness::expect_dlq($r, { $id => [$bad, 'bad_json'] }, name => 'DLQ after the memory is freed');
ok(wait_until(sub { $p->readyz->{status} == 200 }, timeout => 30, desc => '200'),
    '/readyz 200 again');
Harness::expect_rows($pg, [$g], name => 'rows unchanged, column by column');
is($p->stop, 0, 'clean exit');
done_testing;
