#!/usr/bin/perl
# Issue 14 defect 8: statement_timeout_ms = 0 (no server-side timeout) used to remove the
# client-side guard too, so a write to a PostgreSQL that stopped answering (SIGSTOP, a dead
# route) waited forever.  Now client_timeout_ms bounds it: the wait is logged with its batch,
# counted, /readyz says why, and after SIGCONT every record is stored exactly once.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(time);

my ($CLIENT_MS, $SLEEP_S) = (1_500, 1);
my ($r, $pg, $p) = Harness::stack(config => {
    redis => { consumer_prefix => 'pg', block_ms => 200, batch_size => 50 },
    postgres => { statement_timeout_ms => 0, client_timeout_ms => $CLIENT_MS },
    processor => { workers => 1, max_inflight => 1 } });
$pg->slow_writes($SLEEP_S);
my $g = Harness::gen(redis => $r, n => 300, devices => 20, seed => 3821, poison => 30);

# Freeze PostgreSQL (postmaster and backends) while a batch is in its trigger.
ok(wait_until(sub { $pg->psql(q{select count(*) from pg_stat_activity
    where application_name = 'processor' and wait_event = 'PgSleep'}) > 0 },
    timeout => 30, desc => 'a batch in its trigger'), 'a batch is being written');
my $mark = $p->mark;
$pg->kill_stop;
my $t0 = time;
my $ev = $p->wait_event(event => 'postgres_timeout', from => $mark,
    timeout => $CLIENT_MS / 1000 + 5);
my $took = time - $t0;
ok($ev, 'the client guard fires with statement_timeout_ms = 0');
is($ev && $ev->{phase}, 'writing a batch', 'while writing a batch');
like($ev && $ev->{entry}, qr/^\d+-\d+$/, 'the log names the batch\'s first entry');
is($ev && $ev->{level}, 'error', 'logged at error');
cmp_ok($ev && $ev->{waited_s}, '<=', $CLIENT_MS / 1000 + 0.5,
    'after client_timeout_ms (+0.5 s)');
cmp_ok($ev && $ev->{waited_s}, '>=', $CLIENT_MS / 1000 - 0.1, 'not before it');
cmp_ok($took, '<=', $CLIENT_MS / 1000 + 2, sprintf('%.1f s into the freeze', $took));
my $ready;
ok(wait_until(sub { $ready = $p->readyz; $ready->{content} =~ /timed out/ },
    timeout => 10, desc => 'readyz'), '/readyz says PostgreSQL timed out');
is($ready->{status}, 503, '/readyz 503');
like($ready->{reason}, qr/^worker 0: postgres down: timed out/, "reason: $ready->{reason}");
my $n = 0;
ok(wait_until(sub { $n = $p->metric_sum($p->metrics, 'processor_postgres_timeouts_total') // 0;
    $n >= 1 }, timeout => 10, desc => 'metric'), "processor_postgres_timeouts_total counts it ($n)");

$pg->kill_cont;
$pg->slow_writes(0);
Harness::expect_settled($r, $pg, [$g], timeout => 60, name => 'after the freeze');
ok(wait_until(sub { $p->readyz->{status} == 200 }, timeout => 30, desc => 'ready'),
    '/readyz 200 again');
is($p->stop, 0, 'clean exit');
done_testing;
