# Racing-rules tests: a simulated event (tools/racesim) in the contract tables, its fixes on the stream.
package RaceTest;

=head1 NAME

RaceTest - a simulated rally for the live racing rules

=head1 FUNCTIONS

=over

=item RaceTest::simulate(vehicles => N, stages => S, seed => K)

Runs tools/racesim once per stage (seed K + stage), each stage shifted 3 hours after the
previous, and returns { stages => [ { gates => [...], opens_ms, closes_ms, truth => [...] } ],
records => [ { device, ts, json } ] } with records in time order.  Same arguments, same bytes.

=item RaceTest::load_event($pg, $sim)

Creates the contract tables (sql/directus/0001_contract.sql), one running event with the
simulated stages (status running, window from the first fix to five minutes after the last),
their gates, and one entry per vehicle.  Returns { stage_ids => [...], gate_ids => { "S:ORDER" => id } }.

=item RaceTest::settled($pg, $n)

True when positions holds $n rows and no device waits for evaluation.

=item RaceTest::snapshot($pg)

The results as sorted text lines: timing_records, stage_results and race_penalties without
updated_at, revision and source (the columns that may differ between equivalent runs).

=item RaceTest::reset($pg, $r)

Empties positions, the results and the evaluator's tables, deletes the stream: a fresh run
on the same event.

=back

=cut

use strict;
use warnings;
use JSON::PP ();
use File::Temp qw(tempdir);

my $JSON = JSON::PP->new->canonical;
my $STAGE_SHIFT_MS = 3 * 3600 * 1000;

sub simulate
{
	my (%o) = @_;
	my $n = $o{vehicles} // 100;
	my $ns = $o{stages} // 2;
	my $seed = $o{seed} // 1;
	my $bin = Harness::builddir() . '/tools/racesim/racesim';
	my $dir = tempdir('racesim.XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my (@stages, @records);
	for my $s (0 .. $ns - 1) {
		my $shift = $s * $STAGE_SHIFT_MS;
		my ($rc, $out, $err) = Harness::run_cmd([$bin, '-s', $seed + $s, '-n', $n,
		    '-S', "$dir/stage$s.json", '-T', "$dir/truth$s.tsv"], timeout => 120);
		die "racesim failed: $err\n" if $rc;
		my ($lo, $hi);
		for my $line (split /\n/, $out) {
			my $rec = $JSON->decode($line);
			$rec->{timestamp} += $shift;
			$lo = $rec->{timestamp} if !defined $lo || $rec->{timestamp} < $lo;
			$hi = $rec->{timestamp} if !defined $hi || $rec->{timestamp} > $hi;
			push @records, { device => $rec->{device_id}, ts => $rec->{timestamp},
			    json => $JSON->encode($rec) };
		}
		my @truth;
		for my $t (split /\n/, Harness::slurp("$dir/truth$s.tsv")) {
			my @f = split /\t/, $t;
			$f[4] += $shift if $f[1] eq 'gate';
			push @truth, \@f;
		}
		push @stages, { gates => $JSON->decode(Harness::slurp("$dir/stage$s.json")),
		    opens_ms => $lo, closes_ms => $hi + 300_000, truth => \@truth };
	}
	@records = sort { $a->{ts} <=> $b->{ts} || $a->{device} cmp $b->{device} } @records;
	return { stages => \@stages, records => \@records, vehicles => $n };
}

sub _q { my ($s) = @_; $s =~ s/'/''/g; return "'$s'" }

sub load_event
{
	my ($pg, $sim) = @_;
	my $src = Harness::srcdir();
	$pg->psql(Harness::slurp("$src/sql/directus/0001_contract.sql"));
	my $ev = $pg->psql(q{insert into events (code, name, status) values ('SIM', 'Simulated rally',
	    'running') returning id});
	my (%gate_ids, @stage_ids);
	my $order = 0;
	for my $st (@{$sim->{stages}}) {
		$order++;
		my $sid = $pg->psql("insert into stages (event_id, stage_order, name, opens_at, "
		    . "closes_at, status) values ($ev, $order, 'SS$order', to_timestamp($st->{opens_ms} "
		    . "/ 1000.0), to_timestamp($st->{closes_ms} / 1000.0), 'running') returning id");
		push @stage_ids, $sid;
		for my $g (@{$st->{gates}}) {
			my $cols = 'stage_id, kind, gate_order, geometry, direction';
			my $vals = join ', ', $sid, _q($g->{kind}), $g->{gate_order},
			    _q($JSON->encode($g->{geometry})) . '::jsonb', _q($g->{direction} // 'any');
			if ($g->{kind} eq 'speed_zone') {
				$cols .= ', speed_limit_kmh, penalty_rule';
				$vals .= ", $g->{speed_limit_kmh}, " . _q($JSON->encode($g->{penalty_rule}))
				    . '::jsonb';
			}
			$gate_ids{"$order:$g->{gate_order}"} =
			    $pg->psql("insert into gates ($cols) values ($vals) returning id");
		}
	}
	my %dev = map { $_->{device} => 1 } @{$sim->{records}};
	my $car = 0;
	$pg->psql('insert into entries (event_id, car_number, device_id) values '
	    . join(', ', map { "($ev, '" . ++$car . "', " . _q($_) . ')' } sort keys %dev));
	return { event_id => $ev, stage_ids => \@stage_ids, gate_ids => \%gate_ids };
}

sub settled
{
	my ($pg, $n) = @_;
	my $got = $pg->psql('select (select count(*) from positions) || \',\' || '
	    . '((select count(*) from race_dirty) + (select count(*) from race_marks))');
	my ($rows, $dirty) = split /,/, $got;
	return $rows == $n && $dirty == 0;
}

sub snapshot
{
	my ($pg) = @_;
	my $tr = $pg->psql(q{select e.device_id || ' ' || t.stage_id || ' ' || t.gate_id || ' '
	    || t.pass_number || ' ' || to_char(t.crossing_time at time zone 'UTC',
	    'YYYY-MM-DD HH24:MI:SS.US') || ' ' || t.uncertainty_ms || ' ' || t.fix_before || ' '
	    || t.fix_after || ' ' || t.fraction || ' ' || coalesce(t.speed_kmh::text, '-') || ' '
	    || t.direction || ' ' || t.final || ' ' || t.low_confidence
	    from timing_records t join entries e on e.id = t.entry_id order by 1});
	my $sr = $pg->psql(q{select e.device_id || ' ' || r.stage_id || ' ' || coalesce(r.start_time::text, '-')
	    || ' ' || coalesce(r.finish_time::text, '-') || ' ' || coalesce(r.elapsed_ms::text, '-')
	    || ' ' || r.splits::text || ' ' || r.waypoints::text || ' ' || r.penalties_s || ' '
	    || r.status || ' ' || coalesce(r.rank::text, '-') || ' ' || r.provisional || ' '
	    || r.low_confidence from stage_results r join entries e on e.id = r.entry_id order by 1});
	my $pe = $pg->psql(q{select e.device_id || ' ' || p.stage_id || ' ' || p.gate_id || ' ' || p.visit
	    || ' ' || coalesce(p.entered_at::text, '-') || ' ' || coalesce(p.exited_at::text, '-')
	    || ' ' || p.time_over_s || ' ' || p.max_excess_kmh || ' ' || p.avg_speed_kmh || ' '
	    || p.limit_kmh || ' ' || p.rule::text || ' ' || p.penalty_s
	    from race_penalties p join entries e on e.id = p.entry_id order by 1});
	return { timing => [split /\n/, $tr], results => [split /\n/, $sr],
	    penalties => [split /\n/, $pe] };
}

sub reset
{
	my ($pg, $r) = @_;
	$pg->psql('truncate positions, timing_records, stage_results, race_penalties, '
	    . 'race_cursor, race_dirty, race_marks');
	$r->cmd('DEL', 'telemetry:t', 'telemetry:t:dlq');
}

1;
