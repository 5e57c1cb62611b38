#!/usr/bin/perl
# /metrics has what an SRE alerts on: process_* per role, Redis/PostgreSQL up, last commit,
# oldest pending age, reload result, build revision; unknown values are absent, never -1.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 2 } });
ok($p->wait_ready(60), 'ready');
my $t0 = time;
my $sum = Harness::gen(redis => $r, n => 500, devices => 20);
my $m;
ok(wait_until(sub { $m = $p->metrics;
    ($p->metric_sum($m, 'processor_rows_inserted_total') // 0) == $sum->{valid}
    && defined $m->{processor_last_commit_timestamp_seconds}
    && defined $m->{processor_oldest_pending_age_seconds} }, timeout => 30,
    desc => 'rows, last commit and a lag poll in /metrics'), 'metrics caught up');

my %pid = map { $_ => 1 } $p->pid, $p->children;
for my $role ('role="master"', 'role="worker",worker="0"', 'role="worker",worker="1"') {
	my $rss = $m->{"process_resident_memory_bytes{$role}"};
	ok(defined $rss && $rss > 1 << 20 && $rss < 1 << 34, "rss of $role is sane")
	    or diag($rss // 'absent');
	my $fds = $m->{"process_open_fds{$role}"};
	ok(defined $fds && $fds >= 3 && $fds < 1000, "open fds of $role") or diag($fds // 'absent');
	my $cpu = $m->{"process_cpu_seconds_total{$role}"};
	ok(defined $cpu && $cpu >= 0 && $cpu < 600, "cpu seconds of $role") or diag($cpu // 'absent');
	my $st = $m->{"process_start_time_seconds{$role}"};
	ok(defined $st && $st > $t0 - 120 && $st <= time + 1, "start time of $role is about now")
	    or diag($st // 'absent');
}
is($m->{processor_redis_up}, 1, 'redis up');
is($m->{processor_postgres_up}, 1, 'postgres up');
my $lc = $m->{processor_last_commit_timestamp_seconds};
ok($lc >= $t0 - 1 && $lc <= time + 1, 'last commit is recent') or diag($lc);
ok(wait_until(sub { $m = $p->metrics; ($m->{processor_oldest_pending_age_seconds} // -1) == 0 },
    timeout => 15, desc => 'age 0'), 'nothing pending: oldest pending age 0');
is($m->{processor_config_last_reload_successful}, 1, 'start-up config counts as loaded');
my ($bi) = grep { /^processor_build_info\{/ } keys %$m;
like($bi, qr/^processor_build_info\{version="[^"]+",revision="([0-9a-f]{7,}|v?[\w.+-]+|unknown)"\}$/,
    'build info carries the revision');
unlike($bi, qr{/}, 'no build-machine path in the labels');
ok(!grep({ $m->{$_} eq '-1' } keys %$m), 'no -1 sentinel');
ok(!grep(/^processor_worker_(records|rows|batches|write_errors|devices)/, keys %$m),
    'no duplicated processor_worker_X family');
my $le = (sort { $b <=> $a } map { /^processor_write_duration_seconds_bucket\{le="([\d.e+]+)"\}$/ ? $1 : () }
    keys %$m)[0];
cmp_ok($le, '>=', 30, 'write-duration buckets reach the 30 s statement timeout');

# a reload that fails shows; a good one clears it
my $good = Harness::slurp($p->config_path);
my $mark = $p->mark;
$p->write_config($good . "\n[nosuchsection]\nx = 1\n");
$p->signal('HUP');
ok($p->wait_log(qr/reload failed/, 10, from => $mark), 'bad reload refused');
is($p->metrics->{processor_config_last_reload_successful}, 0, 'reload_successful 0');
$mark = $p->mark;
$p->write_config($good);
$p->signal('HUP');
ok($p->wait_log(qr/reload complete/, 60, from => $mark), 'good reload');
is($p->metrics->{processor_config_last_reload_successful}, 1, 'reload_successful 1 again');
is($p->stop, 0, 'clean stop');
done_testing;
