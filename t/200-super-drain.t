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
is($pg->psql('select count(*) from (select device_id, ts from positions group by 1, 2 '
    . 'having count(*) > 1) d'), 0, 'no row twice');
ok(wait_until(sub { $r->pending('telemetry:t', 'processor') == 0 }, timeout => 60,
    desc => 'pending empty'), 'nothing pending');

sub metrics { $p->metrics }

# Stats go up every 500 ms: wait until the totals caught up with the database.
my $m;
ok(wait_until(sub { $m = metrics(); $m && ($m->{processor_rows_inserted_total} // -1)
    == $sum->{valid} }, timeout => 10, desc => 'metrics caught up'),
    'processor_rows_inserted_total == row count');
$res = $http->get($p->metrics_url);
like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'exposition content type');
for my $c (qw(records_consumed rows_inserted records_acked)) {
	my $s = 0;
	my $each = 1;
	for my $w (0 .. 3) {
		my $v = $m->{"processor_worker_${c}_total{worker=\"$w\"}"} // 0;
		$s += $v;
		$each = 0 unless $v > 0;
	}
	is($s, $m->{"processor_${c}_total"}, "$c: total == sum of the per-worker series");
	ok($each, "$c: every worker did some of the work");
}
is($m->{processor_records_consumed_total}, $sum->{published}, 'consumed == published');
is($m->{'processor_worker_up{worker="3"}'}, 1, 'worker_up gauge');
# The master polls XINFO GROUPS every 5 s: wait for a poll after the drain.
ok(wait_until(sub { $m = metrics(); defined $m->{processor_consumer_group_pending} },
    timeout => 15, desc => 'lag poll'), 'lag poll reported');
ok(wait_until(sub { $m = metrics(); ($m->{processor_consumer_group_pending} // -1) == 0 },
    timeout => 15, desc => 'pending 0'), 'group pending 0 in /metrics');
like($m->{processor_consumer_group_lag}, qr/^(0|-1)$/, 'group lag 0 (or -1 when unknown)');
is($m->{'processor_build_info{version="' . ($m->{_v} // '') . '"}'} // 1, 1, 'build info');

$res = $http->get('http://127.0.0.1:' . $p->http_port . '/nope');
is($res->{status}, 404, '404 for other paths');
$res = $http->request('POST', $p->metrics_url, { content => 'x' });
is($res->{status}, 405, '405 for POST');

is($p->stop, 0, 'SIGTERM: exit 0');
my @n = $p->notify_messages;
ok((grep { /STOPPING=1/ } @n), 'STOPPING=1 sent');
done_testing;
