#!/usr/bin/perl
# Four workers drain 50 000 records: every row once, nothing pending, /metrics totals agree.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use HTTP::Tiny;

my $N = $ENV{PROCESSOR_TEST_DRAIN_N} // 50_000;
my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg, notify => 1,
    config => { processor => { workers => 4 } });
ok($p->wait_ready(60), 'master says all workers are ready');
ok($p->wait_notify(qr/^READY=1/m, 10), 'READY=1 sent');
is(scalar(my @c = $p->children), 4, 'four worker processes');

my $http = HTTP::Tiny->new(timeout => 10);
my $res = $http->get('http://127.0.0.1:' . $p->http_port . '/healthz');
is($res->{status}, 200, '/healthz 200');
$res = $http->get('http://127.0.0.1:' . $p->http_port . '/readyz');
is($res->{status}, 200, '/readyz 200 once ready') or diag($res->{content});

my $sum = Harness::gen(redis => $r, n => $N, devices => 200);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} },
    timeout => 180, desc => 'all rows landed'), "all $sum->{valid} rows landed");
Harness::expect_rows($pg, [$sum]);
ok(wait_until(sub { $r->pending('telemetry:t', 'processor') == 0 }, timeout => 60,
    desc => 'pending empty'), 'nothing pending');

sub metrics { $p->metrics }

# Stats go up every 500 ms: wait until the totals caught up with the database.
my $m;
sub total { $p->metric_sum($m, $_[0]) }
ok(wait_until(sub { $m = metrics(); $m && (total('processor_rows_inserted_total') // -1)
    == $sum->{valid} }, timeout => 10, desc => 'metrics caught up'),
    'sum of processor_rows_inserted_total == row count');
$res = $http->get($p->metrics_url);
like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'exposition content type');
for my $c (qw(records_consumed rows_inserted records_acked)) {
	my $each = 1;
	for my $w (0 .. 3) {
		$each = 0 unless ($m->{"processor_${c}_total{worker=\"$w\"}"} // 0) > 0;
	}
	is(scalar(grep { /^processor_${c}_total\{worker="\d+"\}$/ } keys %$m), 4,
	    "$c: one series per worker slot, no unlabelled total");
	ok($each, "$c: every worker did some of the work");
}
is(total('processor_records_consumed_total'), $sum->{published}, 'sum of consumed == published');
ok(wait_until(sub { $m = metrics(); (total('processor_records_acked_total') // -1) == $sum->{published} },
    timeout => 10, desc => 'acks counted'), 'sum of acked == published');
ok(!grep(/^processor_worker_records_/, keys %$m), 'no processor_worker_X_total family left');
is($m->{'processor_worker_up{worker="3"}'}, 1, 'worker_up gauge');
# The master polls XINFO GROUPS every 5 s: wait for a poll after the drain.
ok(wait_until(sub { $m = metrics(); defined $m->{processor_consumer_group_pending} },
    timeout => 15, desc => 'lag poll'), 'lag poll reported');
ok(wait_until(sub { $m = metrics(); ($m->{processor_consumer_group_pending} // -1) == 0 },
    timeout => 15, desc => 'pending 0'), 'group pending 0 in /metrics');
ok(!defined $m->{processor_consumer_group_lag} || $m->{processor_consumer_group_lag} == 0,
    'group lag 0 (absent when Redis cannot tell)');
ok(!grep({ $m->{$_} eq '-1' } keys %$m), 'no -1 sentinel');
is(scalar(grep { /^processor_build_info\{version="[^"]+",revision="[^"]+"\}$/ && $m->{$_} == 1 }
    keys %$m), 1, 'build info with version and revision');

$res = $http->get('http://127.0.0.1:' . $p->http_port . '/nope');
is($res->{status}, 404, '404 for other paths');
$res = $http->request('POST', $p->metrics_url, { content => 'x' });
is($res->{status}, 405, '405 for POST');

# Read what is queued first: a datagram socket holds only net.unix.max_dgram_qlen (10)
# messages, and a slow run sends more STATUS= updates than that; the master sends with
# MSG_DONTWAIT, so STOPPING=1 would be dropped on a full queue.
$p->notify_messages;
is($p->stop, 0, 'SIGTERM: exit 0');
my @n = $p->notify_messages;
ok((grep { /STOPPING=1/ } @n), 'STOPPING=1 sent');
done_testing;
