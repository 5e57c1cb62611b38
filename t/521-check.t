#!/usr/bin/perl
# processor check: a crafted event with one of each problem yields exactly those findings,
# with the exit code of their worst severity.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my $src = Harness::srcdir();
my $bin = Harness::builddir() . '/src/processor';
my ($r, $pg) = Harness::stack(ready => 0);
$pg->psql(Harness::slurp("$src/sql/directus/0001_contract.sql"));
$pg->psql(Harness::slurp("$src/sql/0001_positions.sql"));
my $dir = Harness::tmpdir('check');
my $conf = "$dir/processor.conf";
open(my $fh, '>', $conf) or die "$conf: $!";
print $fh "[postgres]\nurl = " . $pg->url . "\n";
close($fh);

sub check { Harness::run_cmd([$bin, '-c', $conf, 'check', @_], timeout => 60) }

my $ev = $pg->psql(q{insert into events (code, name, status) values ('CHK', 'Checked', 'planned') returning id});
my $other = $pg->psql(q{insert into events (code, name, status) values ('OTHER', 'Other', 'running') returning id});
my $s1 = $pg->psql("insert into stages (event_id, stage_order, name) values ($ev, 1, 'SS1') returning id");
my $s2 = $pg->psql("insert into stages (event_id, stage_order, name) values ($ev, 2, 'SS2') returning id");

# An east-west line of width w metres at lat (around lon 15).
sub ew { my ($lat, $w) = @_; my $d = $w / 2 / (111320 * cos($lat * 3.14159265 / 180));
	return sprintf('{"type":"line","a":[%.7f,%.7f],"b":[%.7f,%.7f]}', $lat, 15 + $d, $lat, 15 - $d) }
sub wp { my ($lat, $clear) = @_;
	return sprintf('{"type":"circle","center":[%.7f,15],"open_radius_m":200,"clear_radius_m":%g}',
	    $lat, $clear) }
my %id;
sub gate
{
	my ($key, $stage, $kind, $order, $geo, $limit) = @_;
	$id{$key} = $pg->psql("insert into gates (stage_id, kind, gate_order, geometry, speed_limit_kmh) "
	    . "values ($stage, '$kind', $order, '$geo', " . ($limit // 'null') . ') returning id');
}
# stage 1: along 15 E, northwards
gate(start1 => $s1, 'start', 1, ew(45.0, 60));
gate(short => $s1, 'split', 2, ew(45.005, 20));			# shorter than 55.6 m
gate(wp_small => $s1, 'waypoint', 3, wp(45.010, 20));		# 2 x 20 m < 55.6 m
gate(wp_over => $s1, 'waypoint', 4, wp(45.0102, 60));		# 22 m from wp_small
gate(zone => $s1, 'speed_zone', 5, '{"type":"circle","center":[45.015,15],"radius_m":30}', 80);
gate(split_a => $s1, 'split', 6, ew(45.018, 60));
gate(split_b => $s1, 'split', 7, ew(45.012, 60));		# before split_a on the course
gate(finish1 => $s1, 'finish', 8, ew(45.030, 60));
gate(wp_late => $s1, 'waypoint', 9, wp(45.035, 90));		# after the finish
# stage 2: a split that crosses another
gate(start2 => $s2, 'start', 1, ew(46.0, 60));
gate(split_c => $s2, 'split', 2, ew(46.01, 60));
gate(split_x => $s2, 'split', 3, '{"type":"line","a":[46.0098,15],"b":[46.0104,15]}');
gate(finish2 => $s2, 'finish', 4, ew(46.02, 60));

my %e;
for my $c ([1, 'dev-ok'], [2, ''], [3, 'dev-shared'], [4, 'dev-silent']) {
	$e{$c->[0]} = $pg->psql("insert into entries (event_id, car_number, device_id) values "
	    . "($ev, '$c->[0]', '$c->[1]') returning id");
}
my $e9 = $pg->psql("insert into entries (event_id, car_number, device_id) values ($other, '9', "
    . "'dev-shared') returning id");
$pg->psql(q{insert into positions (device_id, ts, latitude, longitude) values
    ('dev-ok', now() - interval '5 minutes', 45, 15),
    ('dev-shared', now() - interval '1 minute', 45, 15),
    ('dev-silent', now() - interval '2 hours', 45, 15)});
my $silent_ts = $pg->psql(q{select to_char(max(ts) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    from positions where device_id = 'dev-silent'});

my @want = (
	qr/^warning\tstage 1\tgate $id{short}\tsplit line is 20\.0 m long, shorter than the 55\.6 m a car covers between two fixes at 200 km\/h and 1 Hz$/,
	qr/^warning\tstage 1\tgate $id{wp_small}\twaypoint clear radius 20\.0 m: at 200 km\/h and 1 Hz a car covers 55\.6 m between two fixes and can pass through it without a fix inside \(validated only by the path test\)$/,
	qr/^warning\tstage 1\tgate $id{zone}\tspeed zone is 60 m across: at its 80 km\/h limit and 1 Hz that is 2\.7 fixes, fewer than 3$/,
	qr/^error\tstage 1\tgate $id{wp_late}\twaypoint gate \(gate_order 9\) comes after the finish \(gate_order 8\)$/,
	qr/^error\tstage 1\tgate $id{split_b}\tsplit \(gate_order 7\) lies 13\d\d m along the course, before split $id{split_a} \(gate_order 6\) at 20\d\d m$/,
	qr/^warning\tstage 1\tgate $id{wp_over}\twaypoint clear circle overlaps that of gate $id{wp_small}$/,
	qr/^error\tstage 2\tgate $id{split_x}\tsplit line crosses the split line of gate $id{split_c}$/,
	qr/^error\t-\tentry @{[$e{2}]}\tcar 2 has no device$/,
	qr/^error\t-\tentry @{[$e{3}]}\tcar 3: device dev-shared is also that of entry $e9 \(car 9, event OTHER\)$/,
	qr/^warning\t-\tentry @{[$e{4}]}\tcar 4: device dev-silent reported no fix in the last hour \(last: \Q$silent_ts\E\)$/,
);
my ($rc, $out, $err) = check('--event', 'CHK');
is($rc, 2, 'errors: exit 2') or diag($err);
my @got = split /\n/, $out;
is(scalar @got, scalar @want, scalar(@want) . ' findings') or diag($out);
for my $i (0 .. $#want) {
	like($got[$i] // '', $want[$i], "finding $i: " . ($got[$i] // 'missing'));
}
like($err, qr/check of event CHK: 5 errors, 5 warnings \(top speed 200 km\/h, 1 Hz: 55\.6 m between fixes\)/,
    'summary on stderr');

# --- a clean event: 0; a faster car makes its lines short: 1 (warnings only) --------------
my $clean = $pg->psql(q{insert into events (code, name) values ('CLEAN', 'Clean') returning id});
my $s3 = $pg->psql("insert into stages (event_id, stage_order, name) values ($clean, 1, 'SS1') returning id");
gate(start3 => $s3, 'start', 1, ew(47.0, 60));
gate(wp3 => $s3, 'waypoint', 2, wp(47.01, 90));
gate(finish3 => $s3, 'finish', 3, ew(47.02, 60));
$pg->psql("insert into entries (event_id, car_number, device_id) values ($clean, '1', 'dev-clean')");
$pg->psql(q{insert into positions (device_id, ts, latitude, longitude) values ('dev-clean', now(), 47, 15)});
($rc, $out, $err) = check('--event', 'CLEAN');
is($rc, 0, 'clean event: exit 0') or diag($out, $err);
is($out, '', 'clean event: no findings');
($rc, $out, $err) = check('--event', $clean, '--top-speed', 300, '--rate', 1);
is($rc, 1, 'by id, at 300 km/h: warnings only, exit 1') or diag($out, $err);
is(scalar(() = $out =~ /^warning\tstage 1\tgate \d+\t(start|finish) line is 60\.\d m long, shorter than the 83\.3 m/mg), 2,
    'start and finish lines are short at 300 km/h');
is(scalar(split /\n/, $out), 2, 'and nothing else');

($rc, $out, $err) = check('--event', 'NOPE');
is($rc, 65, 'unknown event: 65');
($rc, $out, $err) = check('--event', 'CHK', '--rate', 0);
is($rc, 64, '--rate 0: usage (64)');

# A server that accepts the connection and never answers: check gives up after its
# connect_timeout (10 s) with 75 (temporary failure) instead of waiting forever.
use IO::Socket::INET;
use Time::HiRes qw(time);
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5,
    Proto => 'tcp') or BAIL_OUT("listen: $!");
my $mute = "$dir/mute.conf";
open($fh, '>', $mute) or die "$mute: $!";
print $fh "[postgres]\nurl = postgresql://processor\@127.0.0.1:" . $silent->sockport . "/x\n";
close($fh);
my $t0 = time;
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $mute, 'check', '--event', 'CHK'], timeout => 60);
my $took = time - $t0;
is($rc, 75, 'a silent server: 75') or diag($out, $err);
like($err, qr/^processor check: cannot connect to PostgreSQL: .*timeout/mi, 'says it timed out');
cmp_ok($took, '<', 30, sprintf('gave up after %.1f s (connect_timeout 10 s)', $took));
close $silent;

done_testing();
