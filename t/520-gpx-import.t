#!/usr/bin/perl
# processor import gpx: OpenRally roadbooks into stages and gates, column by column; a dry run
# writes nothing; each malformed roadbook is refused with its line and reason and writes nothing.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use JSON::PP ();

my $PI = 4 * atan2(1, 1);
my $R = 6371008.8;
my $src = Harness::srcdir();
my $bin = Harness::builddir() . '/src/processor';

my ($r, $pg) = Harness::stack(ready => 0);
$pg->psql(Harness::slurp("$src/sql/directus/0001_contract.sql"));
$pg->psql(q{insert into events (code, name) values ('GPX', 'Roadbook rally')});
my $dir = Harness::tmpdir('gpx');
my $conf = "$dir/processor.conf";
open(my $fh, '>', $conf) or die "$conf: $!";
print $fh "[postgres]\nurl = " . $pg->url . "\n";
close($fh);

sub import_gpx
{
	my ($file, @args) = @_;
	return Harness::run_cmd([$bin, '-c', $conf, 'import', 'gpx', "$src/t/data/gpx/$file",
	    '--event', 'GPX', @args], timeout => 60);
}

# A point east_m and north_m from (lat, lon), on the sphere.
sub off
{
	my ($lat, $lon, $e, $n) = @_;
	return [$lat + $n / ($R * $PI / 180), $lon + $e / ($R * $PI / 180 * cos($lat * $PI / 180))];
}

sub dist
{
	my ($p, $q) = @_;
	my ($la1, $lo1, $la2, $lo2) = map { $_ * $PI / 180 } @$p, @$q;
	my $h = sin(($la2 - $la1) / 2)**2 + cos($la1) * cos($la2) * sin(($lo2 - $lo1) / 2)**2;
	return 2 * $R * atan2(sqrt($h), sqrt(1 - $h));
}

sub line { my ($lat, $lon, $a_e, $a_n) = @_;
	return { type => 'line', a => off($lat, $lon, $a_e, $a_n), b => off($lat, $lon, -$a_e, -$a_n) } }
sub circle { my ($lat, $lon, $open, $clear) = @_;
	return { type => 'circle', center => [$lat, $lon], open => $open, clear => $clear } }

my %want = (
	1 => { name => 'SS1 North', gates => [
		[ 'start', 1, 'Start', 'left_to_right', undef, line(45.0, 15.0, 30, 0) ],
		[ 'waypoint', 2, 'WP1', 'any', undef, circle(45.01, 15.0, 800, 90) ],
		[ 'speed_zone', 3, 'dz', 'any', 50, { type => 'polygon', ring => [
			off(45.02, 15, -20, 0), off(45.025, 15, -20, 0), off(45.03, 15, -20, 0),
			off(45.03, 15, 20, 0), off(45.025, 15, 20, 0), off(45.02, 15, 20, 0) ] } ],
		[ 'waypoint', 4, 'WPS2', 'any', undef, circle(45.04, 15.0, 200, 30) ],
		[ 'finish', 5, 'Finish', 'left_to_right', undef, line(45.05, 15.0, 30, 0) ],
	] },
	2 => { name => 'Stage 2', gates => [
		[ 'start', 1, 'dss', 'left_to_right', undef, line(44.0, 16.0, 0, -30) ],
		[ 'waypoint', 2, 'wpv', 'any', undef, circle(44.0, 16.01, 457.2, 91.44) ],
		[ 'speed_zone', 3, 'dz', 'any', 30 * 1.609344, { type => 'polygon', ring => [
			off(44.0, 16.02, 0, 20), off(44.0, 16.03, 0, 20),
			off(44.0, 16.03, 0, -20), off(44.0, 16.02, 0, -20) ] } ],
		[ 'waypoint', 4, 'Village end', 'any', undef, circle(44.0, 16.03, 45.72, 45.72) ],
		[ 'waypoint', 5, 'wpe', 'any', undef, circle(44.0, 16.04, 182.88, 182.88) ],
		[ 'finish', 6, 'ass', 'left_to_right', undef, line(44.0, 16.05, 0, -30) ],
	] },
);

sub counts { $pg->psql('select (select count(*) from stages) || \'/\' || (select count(*) from gates)') }

# --- dry run: prints the gates, writes nothing ------------------------------------------
my ($rc, $out, $err) = import_gpx('north.gpx', '--stage', 1, '--dry-run');
is($rc, 0, 'dry run exits 0') or diag($err);
is(scalar(() = $out =~ /^gate \d+ /mg), 5, 'dry run prints five gates');
like($out, qr/^gate 3 speed_zone dz limit 50\.0 km\/h direction any \(line 25\): \{"type": "polygon"/m,
    'dry run names the speed zone, its limit and its line');
like($out, qr/nothing written/, 'dry run says it wrote nothing');
is(counts(), '0/0', 'dry run: no stage, no gate');

# --- the two samples ---------------------------------------------------------------------
my $json = JSON::PP->new;
for my $case ([ 'north.gpx', 1 ], [ 'east.gpx', 2 ]) {
	my ($file, $stage) = @$case;
	($rc, $out, $err) = import_gpx($file, '--stage', $stage);
	is($rc, 0, "$file imports") or diag($err);
	like($out, qr/^imported \d+ gates into stage $stage \(id \d+, created\) of event GPX$/m,
	    "$file: says what it created");
	my $w = $want{$stage};
	is($pg->psql("select name from stages where stage_order = $stage"), $w->{name},
	    "$file: stage $stage named $w->{name}");
	my @rows = split /\n/, $pg->psql("select kind, gate_order, g.name, direction, "
	    . "coalesce(speed_limit_kmh::text, ''), geometry::text from gates g join stages s "
	    . "on s.id = g.stage_id where s.stage_order = $stage order by gate_order");
	is(scalar @rows, scalar @{$w->{gates}}, "$file: " . scalar(@{$w->{gates}}) . ' gates');
	for my $i (0 .. $#{$w->{gates}}) {
		my ($kind, $order, $name, $dir, $limit, $geo) = @{$w->{gates}[$i]};
		my @got = split /\|/, $rows[$i] // '', 6;
		my $tag = "$file gate $order";
		is($got[0], $kind, "$tag: kind $kind");
		is($got[1], $order, "$tag: gate_order $order");
		is($got[2], $name, "$tag: name $name");
		is($got[3], $dir, "$tag: direction $dir");
		if (defined $limit) {
			ok(abs($got[4] - $limit) < 0.01, "$tag: speed limit $limit km/h ($got[4])");
		} else {
			is($got[4], '', "$tag: no speed limit");
		}
		my $g = $json->decode($got[5] // '{}');
		is($g->{type}, $geo->{type}, "$tag: $geo->{type}");
		my @pairs;
		if ($geo->{type} eq 'line') {
			@pairs = ([ $g->{a}, $geo->{a}, 'a' ], [ $g->{b}, $geo->{b}, 'b' ]);
		} elsif ($geo->{type} eq 'circle') {
			@pairs = ([ $g->{center}, $geo->{center}, 'centre' ]);
			ok(abs($g->{clear_radius_m} - $geo->{clear}) < 0.01
			    && abs($g->{radius_m} - $geo->{clear}) < 0.01,
			    "$tag: clear radius $geo->{clear} m");
			ok(abs($g->{open_radius_m} - $geo->{open}) < 0.01, "$tag: open radius $geo->{open} m");
		} else {
			is(scalar @{$g->{ring}}, scalar @{$geo->{ring}},
			    "$tag: ring of " . scalar(@{$geo->{ring}}) . ' points');
			@pairs = map { [ $g->{ring}[$_], $geo->{ring}[$_], "ring[$_]" ] } 0 .. $#{$geo->{ring}};
		}
		for my $p (@pairs) {
			my $d = defined $p->[0] ? dist($p->[0], $p->[1]) : 1e9;
			ok($d < 0.5, sprintf('%s: %s within 0.5 m (%.3f m)', $tag, $p->[2], $d));
		}
	}
}

# --- a stage that has gates is not overwritten unless asked ------------------------------
($rc, $out, $err) = import_gpx('north.gpx', '--stage', 1);
is($rc, 65, 'a second import into stage 1 is refused (65)');
like($err, qr/already has 5 gates; --replace/, 'and says how to replace them');
($rc, $out, $err) = import_gpx('north.gpx', '--stage', 1, '--replace');
is($rc, 0, '--replace re-imports stage 1') or diag($err);
is(counts(), '2/11', 'two stages, eleven gates');
# The DELETE of --replace refused (here by a trigger): its error, nothing inserted after it.
my $gates1 = $pg->psql('select string_agg(id::text, \',\' order by id) from gates');
$pg->psql(q{create function no_delete() returns trigger language plpgsql as
    $$begin raise exception 'gates are frozen'; end$$;
    create trigger frozen before delete on gates for each row execute function no_delete()});
($rc, $out, $err) = import_gpx('north.gpx', '--stage', 1, '--replace');
is($rc, 75, '--replace whose DELETE fails: 75');
like($err, qr/deleting gates: .*gates are frozen/, 'the DELETE\'s error is named');
unlike($err, qr/transaction is aborted|inserting/, 'and no INSERT is tried after it');
is($pg->psql('select string_agg(id::text, \',\' order by id) from gates'), $gates1,
    'the gates as they were');
$pg->psql('drop trigger frozen on gates; drop function no_delete()');

# --- malformed roadbooks: line and reason, nothing written -------------------------------
my @bad = (
	[ 'bad-not-xml.gpx', qr/^processor: \S+bad-not-xml\.gpx: line 1: not a well-formed XML document: syntax error$/ ],
	[ 'bad-unclosed.gpx', qr/: line 9: not a well-formed XML document: mismatched tag \(the <wpt> of line 7 is not closed\)$/ ],
	[ 'bad-no-latlon.gpx', qr/: line 7: <wpt> without lon$/ ],
	[ 'bad-zone-open.gpx', qr/: line 7: speed zone start <dz> without an end <fz>$/ ],
	[ 'bad-wp-type.gpx', qr/: line 8: unknown waypoint type <wpx> \(known: wpm, wps, wpv, wpc, wpe\)$/ ],
);
for my $b (@bad) {
	($rc, $out, $err) = import_gpx($b->[0], '--stage', 3);
	is($rc, 65, "$b->[0]: refused with 65");
	chomp $err;
	like($err, $b->[1], "$b->[0]: $err");
	is(counts(), '2/11', "$b->[0]: nothing written");
}

# --- usage and unknown event ---------------------------------------------------------------
($rc, $out, $err) = import_gpx('north.gpx');
is($rc, 64, 'no --stage: usage (64)');
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $conf, 'import', 'gpx', "$src/t/data/gpx/north.gpx",
    '--event', 'NOPE', '--stage', 1]);
is($rc, 65, 'unknown event: 65');
like($err, qr/no event with code \(or id\) NOPE/, 'unknown event is named');

done_testing();
