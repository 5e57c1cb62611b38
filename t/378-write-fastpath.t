#!/usr/bin/perl
# Issue 13: a batch whose keys are all new is copied straight into positions; a batch that
# meets a stored key is rolled back and written again through the staging table (first
# wins, duplicates counted, conflicts compared), counted in processor_write_fallbacks_total;
# the batches after it stay staged until one has no stored key, then go fast again.  And
# processor_race_mark_keys (sql/0006), the race mark of the fast path, marks exactly the
# timed devices with their oldest and newest fix.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $T0 = 1_700_000_000_000;
sub rec { my ($dev, $k, $lat) = @_; my $ts = $T0 + $k * 1000;
	qq({"device_id":"$dev","timestamp":$ts,"latitude":$lat,"longitude":15.25}) }

# What positions must hold: device -> ts offset -> latitude.
my %want;
sub publish
{
	my (@recs) = @_;
	for my $x (@recs) {
		$r->cmd('XADD', $S, '*', 'payload', rec(@$x));
		$want{$x->[0]}{$x->[1]} //= $x->[2];	# first wins
	}
}
sub rows_ok
{
	my ($name) = @_;
	my $exp = join("\n", map { my $d = $_; map { "$d|" . ($T0 + $_ * 1000) . "|$want{$d}{$_}" }
	    sort { $a <=> $b } keys %{$want{$d}} } sort keys %want);
	is($pg->psql("select device_id || '|' || (extract(epoch from ts) * 1000)::int8 || '|' "
	    . "|| latitude from positions order by device_id, ts"), $exp, $name);
}
# Every entry published is ACKed, and this process' counters have seen them all (a
# worker's counters start at 0: $acked counts what this process was given).
my ($xlen, $acked) = (0, 0);
sub settled
{
	my ($p, $n, $desc) = @_;
	$xlen += $n;
	$acked += $n;
	ok(wait_until(sub { $r->xlen($S) == $xlen && $r->pending($S, 'processor') == 0
	    && ($p->metric_sum($p->metrics, 'processor_records_acked_total') // 0) == $acked },
	    timeout => 30, desc => $desc), $desc);
}
sub metric { my ($p, $name) = @_; $p->metric_sum($p->metrics, $name) // 0 }

my %cfg = (redis => { consumer_prefix => 'fp', block_ms => 200, batch_size => 500 },
    processor => { workers => 1 });

# 1. New keys only: written fast, no fallback.
publish(map { ["fp-$_", $_, 45 + $_ / 100] } 1 .. 40);
my $p = Harness::Processor->start(redis => $r, pg => $pg, config => \%cfg);
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
settled($p, 40, 'the first batch settled');
rows_ok('the new rows are stored, column by column');
is(metric($p, 'processor_rows_inserted_total'), 40, '40 rows inserted');
is(metric($p, 'processor_write_fallbacks_total'), 0, 'no fallback for new keys');
is($p->stop, 0, 'clean exit');

# 2. One batch (published while stopped) with new keys, a stored key with the same content,
# a stored key with other content and a new key twice: the fast COPY fails on the stored
# key, the staged INSERT writes the new rows, keeps the stored ones, counts the duplicate
# and the conflict.
publish(["fp-1", 1, 45.01], ["fp-2", 2, 44.5], ["fp-50", 50, 10.5], ["fp-50", 50, 10.5],
    map { ["fp-$_", $_, 45 + $_ / 100] } 41 .. 45);
$p = Harness::Processor->start(redis => $r, pg => $pg, config => \%cfg);
$acked = 0;
ok($p->wait_ready(60), 'processor ready again') or BAIL_OUT('no start');
settled($p, 9, 'the mixed batch settled');
rows_ok('after the fallback: new rows stored, stored rows unchanged (first wins)');
is(metric($p, 'processor_write_fallbacks_total'), 1, 'one fallback');
is(metric($p, 'processor_rows_inserted_total'), 6, '6 new rows (fp-41..45, fp-50 once)');
is(metric($p, 'processor_rows_duplicate_total'), 2, 'the identical stored row and the in-batch copy');
is(metric($p, 'processor_duplicate_conflicts_total'), 1, 'the stored key with other content');

# 3. Next batch, new keys only: staged (no fallback counted), and being all new it lets
# the one after go fast again, which shows by failing over once more on a stored key.
publish(map { ["fp-$_", $_, 45 + $_ / 100] } 60 .. 64);
settled($p, 5, 'the new-key batch settled');
is(metric($p, 'processor_write_fallbacks_total'), 1, 'a staged batch of new keys: no fallback');
publish(["fp-60", 60, 45.6], ["fp-70", 70, 45.7]);
settled($p, 2, 'a batch with a stored key settled');
is(metric($p, 'processor_write_fallbacks_total'), 2,
    'the fast path was back (it met the stored key: a second fallback)');
rows_ok('all rows, column by column');
is(metric($p, 'processor_rows_inserted_total'), 12, '12 new rows in all');
is($r->xlen("$S:dlq"), 0, 'nothing dead-lettered');
is($p->stop, 0, 'clean exit');

# 4. processor_race_mark_keys appends the batch's mark (sql/0007); processor_race_fold turns
# the appended marks into race_dirty: only timed devices, exact microseconds, gen grows,
# range widens, each appended row folded once.
$pg->psql("insert into race_devices values ('fp-1'), ('fp-2')");
my $dirty = sub { $pg->psql("select device_id || '|' || gen || '|' || "
    . "(extract(epoch from min_ts) * 1000000)::int8 || '|' || "
    . "(extract(epoch from max_ts) * 1000000)::int8 from race_dirty order by 1") };
my $appended = sub { $pg->psql("select devices::text || ' ' || min_us::text || ' ' || max_us::text "
    . 'from race_marks order by id') };
$pg->psql(q{select processor_race_mark_keys('{"fp-1","fp-2","fp-3"}',
    '{1700000000000001,1700000001000000,5}', '{1700000002000007,1700000001000000,6}')});
is($appended->(), '{fp-1,fp-2,fp-3} {1700000000000001,1700000001000000,5} '
    . '{1700000002000007,1700000001000000,6}', 'the batch appended as it was passed');
is($dirty->(), '', 'nothing in race_dirty before a fold');
is($pg->psql('select processor_race_fold(100)'), 1, 'one appended mark folded');
is($appended->(), '', 'and gone from race_marks');
is($dirty->(), "fp-1|1|1700000000000001|1700000002000007\nfp-2|1|1700000001000000|1700000001000000",
    'timed devices marked with their oldest and newest fix, to the microsecond');
$pg->psql(q{select processor_race_mark_keys('{"fp-2"}', '{1700000000500000}', '{1700000003000000}')});
$pg->psql(q{select processor_race_mark_keys('{"fp-2","fp-1"}', '{1700000004000000,1700000002000008}',
    '{1700000004000000,1700000002000008}')});
is($pg->psql('select processor_race_fold(1)'), 1, 'a fold takes at most its limit');
is($dirty->(), "fp-1|1|1700000000000001|1700000002000007\nfp-2|2|1700000000500000|1700000003000000",
    'a second mark widens the range and bumps gen');
is($pg->psql('select processor_race_fold(100)'), 1, 'the rest on the next fold');
is($dirty->(), "fp-1|2|1700000000000001|1700000002000008\nfp-2|3|1700000000500000|1700000004000000",
    'each appended mark folded once');
is($pg->psql('select processor_race_fold(100)'), 0, 'nothing left to fold');

# 5. processor_race_mark (the staged path) marks through the same function: the staged rows'
# devices, each once, with their oldest and newest fix to the microsecond.
$pg->psql(q{create temp table positions_stage (device_id text, ts timestamptz);
    insert into positions_stage values
	('fp-1', 'epoch'::timestamptz + 1699999999000003 * interval '1 microsecond'),
	('fp-1', 'epoch'::timestamptz + 1700000001000000 * interval '1 microsecond'),
	('fp-3', 'epoch'::timestamptz + 1700000000000000 * interval '1 microsecond');
    select processor_race_mark();});
is($pg->psql("select count(*) || ' ' || string_agg(d || ':' || lo || ':' || hi, ' ' order by d) "
    . 'from race_marks, unnest(devices, min_us, max_us) u(d, lo, hi)'),
    '2 fp-1:1699999999000003:1700000001000000 fp-3:1700000000000000:1700000000000000',
    'the staged path appends its devices once each, oldest and newest fix');
is($pg->psql('select processor_race_fold(100)'), 1, 'folded');
is($dirty->(), "fp-1|3|1699999999000003|1700000002000008\nfp-2|3|1700000000500000|1700000004000000",
    'the staged path widens fp-1 and bumps its gen; an untimed device is not marked');
done_testing;
