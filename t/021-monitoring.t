#!/usr/bin/perl
# The shipped monitoring (contrib/monitoring: Prometheus rules, Grafana
# dashboard) uses only metric names processor exposes: checked by
# scripts/check-monitoring against the source, against a live /metrics, and
# shown to fail on a rule naming an unknown metric.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use File::Temp qw(tempdir);

my $src = $ENV{PROCESSOR_SRCDIR} // "$FindBin::Bin/..";
my $check = "$src/scripts/check-monitoring";
my $mon = "$src/contrib/monitoring";

plan skip_all => 'python3 not installed' unless system('command -v python3 >/dev/null 2>&1') == 0;
plan skip_all => 'python3-yaml not installed (scripts/deps installs it)'
    unless system('python3 -c "import yaml" 2>/dev/null') == 0;

sub run {
	my $out = `@_ 2>&1`;
	return ($? >> 8, $out);
}

# --- against the names in the source -------------------------------------
my ($rc, $out) = run("'$check'");
is($rc, 0, 'check-monitoring (names from the source) passes') or diag($out);
like($out, qr/(\d+) rules, (\d+) panels/, 'it reports what it checked');
note($out);

# --- a rule or a panel naming an unknown metric fails -----------------------
my $tmp = tempdir('processor-mon.XXXXXX', TMPDIR => 1, CLEANUP => 1);
copy("$mon/$_", "$tmp/$_") or die "copy $_: $!"
    for qw(processor.rules.yml processor-dashboard.json metrics-pending.txt);
{
	open(my $fh, '>>', "$tmp/processor.rules.yml") or die $!;
	print $fh "      - alert: Bogus\n        expr: processor_no_such_metric_total > 0\n";
}
($rc, $out) = run("'$check' --dir '$tmp'");
is($rc, 1, 'a rule on an unknown metric fails the check');
like($out, qr/alert Bogus uses unknown metric processor_no_such_metric_total/,
    '... and the message names the rule and the metric') or diag($out);

copy("$mon/processor.rules.yml", "$tmp/processor.rules.yml") or die $!;
{
	local $/;
	open(my $fh, '<', "$tmp/processor-dashboard.json") or die $!;
	my $j = <$fh>;
	$j =~ s/processor_rows_inserted_total/processor_rows_inserted_typo_total/ or die 'no panel to break';
	open($fh, '>', "$tmp/processor-dashboard.json") or die $!;
	print $fh $j;
}
($rc, $out) = run("'$check' --dir '$tmp'");
is($rc, 1, 'a panel on an unknown metric fails the check');
like($out, qr/panel .* uses unknown metric processor_rows_inserted_typo_total/, '... named') or diag($out);

{
	open(my $fh, '>', "$tmp/processor-dashboard.json") or die $!;
	print $fh "{ \"panels\": [ }\n";
}
($rc, $out) = run("'$check' --dir '$tmp'");
is($rc, 1, 'invalid dashboard JSON fails the check');
like($out, qr/not valid JSON/, '... as invalid JSON') or diag($out);

# --- OPERATIONS.md: every "alert when" row has a rule ----------------------
copy("$mon/processor-dashboard.json", "$tmp/processor-dashboard.json") or die $!;
{
	local $/;
	open(my $fh, '<', "$mon/processor.rules.yml") or die $!;
	my $y = <$fh>;
	$y =~ s/processor_group_recreated_total/processor_records_poison_total/ or die 'no rule to drop';
	open($fh, '>', "$tmp/processor.rules.yml") or die $!;
	print $fh $y;
}
($rc, $out) = run("'$check' --dir '$tmp'");
is($rc, 1, 'an OPERATIONS.md alert without a rule fails the check');
like($out, qr/no rule for processor_group_recreated_total/, '... named') or diag($out);

# --- against a running processor's /metrics --------------------------------
SKIP: {
	my $harness = eval { require Harness; Harness->import; 1 };
	skip 't/lib/Harness.pm not available', 3 unless $harness;
	my @miss = grep { !Harness::which($_) } qw(redis-server);
	skip 'redis-server not installed', 3 if @miss;
	skip 'PostgreSQL server binaries not found', 3 unless eval { Harness::pg_bindir() };
	skip 'no built processor (set PROCESSOR_BUILDDIR)', 3
	    unless -x Harness::builddir() . '/src/processor' && -x Harness::builddir() . '/tools/gen';

	my $r = Harness::Redis->start;
	my $pg = Harness::Pg->start;
	my $p = Harness::Processor->start(redis => $r, pg => $pg,
	    config => { processor => { workers => 2 } });
	ok($p->wait_ready(60), 'processor ready');
	Harness::gen(redis => $r, n => 200, devices => 5);
	my $url = 'http://127.0.0.1:' . $p->http_port . '/metrics';
	($rc, $out) = run("'$check' --metrics '$url'");
	is($rc, 0, "check-monitoring --metrics $url passes") or diag($out);
	note($out);
	is($p->stop, 0, 'clean stop');
}

done_testing();
