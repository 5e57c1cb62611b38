# Regression guard of the benchmark (docs/benchmark.md): a small drain and PostgreSQL's own
# ingest of the same rows (ceiling (b): COPY into a temp table + INSERT ... SELECT ... ON
# CONFLICT DO NOTHING).  Fails only on a gross regression: processor below 25% of (b).
# Durability relaxed (fsync=off) like the rest of the suite; well under a minute.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/../tools/bench";
use Test::More;
use Harness;
use Bench;

Harness::need(qw(redis pg processor gen));
my ($cflags) = Harness::slurp(Harness::builddir() . '/Makefile') =~ /^CFLAGS = (.*)$/m;
plan skip_all => 'timing guard: needs the optimized build, not ' . ($cflags // 'an unknown build')
    if !defined $cflags || $cflags =~ /sanitize/ || $cflags !~ /-O[23s]/;
plan skip_all => 'timing guard: not under a wrapper (PROCESSOR_TEST_WRAPPER)'
    if length($ENV{PROCESSOR_TEST_WRAPPER} // '');

my $N = $ENV{BENCH_SMOKE_RECORDS} // 50_000;
my $env = Bench::servers(relaxed => 1);

# A gross regression shows in every attempt; a noisy neighbour (prove -j2) rarely in three.
my ($best, $d, $c);
for my $try (1 .. 3) {
	my $fill = Bench::fill($env, n => $N, devices => 1000);
	is($fill->{valid}, $N, "try $try: stream pre-filled with $N records");
	$d = Bench::drain($env, expect => $fill->{valid}, workers => 2, timeout => 120);
	is($d->{rows}, $N, "try $try: every record landed in positions");
	is($d->{exit_code}, 0, "try $try: processor exited cleanly");
	$c = Bench::ceiling($env);
	is($c->{rows}, $N, "try $try: ceiling loaded the same rows");
	my $ratio = $d->{rows_per_s} / $c->{b}{rows_per_s};
	diag(sprintf('try %d: drain %.0f rows/s (CPU %.2f us/row, peak RSS %d KiB); ceiling (a) '
	    . '%.0f rows/s, (b) %.0f rows/s; processor / (b) = %.2f', $try, $d->{rows_per_s},
	    $d->{cpu_us_per_row} // -1, $d->{peak_rss_kb_max} // -1, $c->{a}{rows_per_s},
	    $c->{b}{rows_per_s}, $ratio));
	$best = $ratio if !defined $best || $ratio > $best;
	last if $best >= 0.25;
}
cmp_ok($best, '>=', 0.25,
    'processor drains at >= 25% of PostgreSQL\'s own COPY + INSERT rate (best of up to 3)');

done_testing;
