# Content checks: the positions table and the DLQ compared with what was published.
package Harness;

=head1 NAME

Harness::Expect - compare positions and the DLQ with the published records, by content

=head1 FUNCTIONS

=over

=item gen_records(GEN)

The records a Harness::gen call published, in order, as [FIELD, PAYLOAD] pairs: tools/gen -o
run again with the same flags (gen is deterministic).  Cached in GEN.  Later passes (passes
=> P) repeat the valid records only, as gen does.

=item gen_plan(GEN_OPTIONS)

What Harness::gen with these options publishes, without publishing anything: a summary that
gen_records, gen_split, expect_rows and expect_settled accept.  For records a forked publisher
sends (Harness::gen in a child process), so the parent can still compare by content.

=item gen_split(GEN)

(\@valid_payloads, \%poison) where %poison maps each poison payload to its expected DLQ reason
(missing_payload records, published under the field "data", map '' to missing_payload: the
daemon dead-letters them with an empty payload).  Dies if the split does not match gen's own
valid/poison counts.

=item expected_row(PAYLOAD)

The positions row a valid payload must become: a hash with device_id, ts_ms, latitude,
longitude (the payload's number text), altitude, angle, satellites, speed, priority,
event_io_id and attributes (JSON text with the sentinels reversed: __bigint as a number,
__buffer_b64 as "\\x<hex>").

=item expect_rows(PG, [GEN...], extra => [PAYLOAD...], name => STR)

One test: the positions table equals, column by column (device_id, ts, latitude, longitude,
altitude, angle, satellites, speed, priority, event_io_id, attributes), the valid records of
the GENs plus the extra payloads, each (device_id, ts) once.  The expected rows go into a temp
table (COPY, one psql session) and are compared with EXCEPT ALL both ways; on failure the
counts and a few differing rows of each side are printed.

=item poison_ids(R, [GEN...], stream => KEY)

Maps the stream's entries to the GENs' poison records by payload bytes: { id => [payload,
reason] } (reads the whole stream with XRANGE).  Dies when a poison record is not in the stream.

=item expect_dlq(R, { ID => PAYLOAD | [PAYLOAD, REASON] | [PAYLOAD, REASON, 'prefix'] }, stream => KEY, name => STR)

Tests: <stream>:dlq holds exactly these ids, each once, with exactly the original payload bytes
(and the reason, when given).  'prefix' (a payload over max_payload): the dead letter holds a
non-empty prefix of the payload's bytes and its payload_len is the whole length.  Returns the dead letters as { id => { fields } }.

=item pending_by_consumer(R, STREAM, GROUP)

{ consumer => pending count } from XPENDING's summary.

=item pending_entries(R, STREAM, GROUP, COUNT)

XPENDING extended form: a list of { id, consumer, idle_ms, deliveries }.

=back

=cut

use strict;
use warnings;
use MIME::Base64 ();
use Time::Local ();

my %POISON_REASON = (
	invalid_json => 'bad_json',
	missing_latitude => 'missing_field',
	latitude_out_of_range => 'out_of_range',
	unknown_sentinel => 'unknown_sentinel',
	bad_base64 => 'bad_base64',
	bad_bigint => 'bad_bigint',
	no_payload => 'missing_payload',
);

sub gen_records
{
	my ($g) = @_;
	return $g->{_records} if $g->{_records};
	die "gen_records: not a Harness::gen summary\n" unless $g->{_gen_args};
	my ($rc, $out, $err) = run_cmd([builddir() . '/tools/gen', '-q', '-o', @{$g->{_gen_args}}],
	    timeout => 120);
	die "gen -o failed (rc $rc): $err\n" if $rc != 0;
	my @r;
	for my $line (split /\n/, $out) {
		my ($f, $p) = $line =~ /^(\S+) (.*)\z/s or die "gen -o: bad line '$line'\n";
		push @r, [$f, $p];
	}
	die "gen -o wrote " . scalar(@r) . " records, gen published $g->{published}\n"
	    unless @r == $g->{published};
	return $g->{_records} = \@r;
}

sub gen_plan
{
	my (%o) = @_;
	my $g = { _gen_args => [gen_content_flags(%o)], _stream => $o{stream} // 'telemetry:t' };
	my ($rc, $out, $err) = run_cmd([builddir() . '/tools/gen', '-q', '-o', @{$g->{_gen_args}}],
	    timeout => 120);
	die "gen -o failed (rc $rc): $err\n" if $rc != 0;
	my (%valid, $poison);
	for my $line (split /\n/, $out) {
		my ($f, $p) = $line =~ /^(\S+) (.*)\z/s or die "gen -o: bad line '$line'\n";
		if (defined _poison_kind($f, $p)) { $poison++ } else { $valid{$p} = 1 }
		$g->{published}++;
	}
	$g->{valid} = keys %valid;
	$g->{poison} = $poison // 0;
	return $g;
}

# Which poison kind a gen record is (undef: valid).  gen's kinds are few and fixed.
sub _poison_kind
{
	my ($field, $p) = @_;
	return 'no_payload' if $field ne 'payload';
	return 'unknown_sentinel' if index($p, '"__weird"') >= 0;
	return 'bad_base64' if index($p, '"AQID*A=="') >= 0;
	return 'bad_bigint' if index($p, '{"__bigint":"12a"}') >= 0;
	return 'invalid_json' unless $p =~ /\}\}\z/ && eval { JSON::PP::decode_json($p); 1 };
	return 'missing_latitude' if index($p, '"latitude":') < 0;
	return 'latitude_out_of_range' if $p =~ /"latitude":999[,}]/;
	return undef;
}

sub gen_split
{
	my ($g) = @_;
	return @{$g->{_split}} if $g->{_split};
	my (@valid, %poison, %kinds);
	my %seen;
	for my $rec (@{gen_records($g)}) {
		my $k = _poison_kind(@$rec);
		if (defined $k) {
			$kinds{$k}++;
			$poison{$k eq 'no_payload' ? '' : $rec->[1]} = $POISON_REASON{$k};
		} else {
			push @valid, $rec->[1] unless $seen{$rec->[1]}++;
		}
	}
	my $npoison = 0;
	$npoison += $_ for values %kinds;
	die sprintf("gen_split: %d valid / %d poison, gen said %d / %d\n", scalar @valid,
	    $npoison, $g->{valid}, $g->{poison})
	    unless @valid == $g->{valid} && $npoison == $g->{poison};
	for my $k (keys %{$g->{poison_kinds} // {}}) {
		die "gen_split: $k: found " . ($kinds{$k} // 0) . ", gen said $g->{poison_kinds}{$k}\n"
		    unless ($kinds{$k} // 0) == $g->{poison_kinds}{$k};
	}
	$g->{_split} = [\@valid, \%poison];
	return (\@valid, \%poison);
}

sub _ts_ms
{
	my ($v) = @_;
	return $v if $v =~ /^\d+\z/;
	my ($y, $mo, $d, $h, $mi, $s, $frac) =
	    $v =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?Z\z/
	    or die "expected_row: timestamp '$v' not understood\n";
	$frac = substr(($frac // '') . '000', 0, 3);
	return Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y) * 1000 + $frac;
}

sub expected_row
{
	my ($p) = @_;
	my %row;
	my $j = JSON::PP->new->allow_bignum->decode($p);
	my $num = sub {
		my ($k) = @_;
		my ($t) = $p =~ /"$k":(-?[0-9][0-9.eE+-]*)/;
		return $t;
	};
	$row{device_id} = $j->{device_id};
	my ($ts) = $p =~ /"timestamp":("[^"]*"|\d+)/ or die "expected_row: no timestamp in $p\n";
	$ts =~ s/"//g;
	$row{ts_ms} = _ts_ms($ts);
	$row{$_} = $num->($_) for qw(latitude longitude altitude angle satellites speed priority
	    event_io_id);
	my $attrs = '{}';
	if ($p =~ /"attributes":(\{.*\})\}\s*\z/s) {
		$attrs = $1;
		$attrs =~ s/\{"__bigint":"(-?\d+)"\}/$1/g;
		$attrs =~ s/\{"__buffer_b64":"([A-Za-z0-9+\/=]*)"\}/
		    '"\\\\x' . unpack('H*', MIME::Base64::decode_base64($1)) . '"'/ge;
	}
	$row{attributes} = $attrs;
	return \%row;
}

my @COLS = qw(device_id ts_ms latitude longitude altitude angle satellites speed priority
    event_io_id attributes);

sub _csv
{
	my ($v) = @_;
	return '' unless defined $v;
	$v =~ s/"/""/g;
	return qq("$v");
}

sub expect_rows
{
	my ($pg, $gens, %o) = @_;
	my @payloads;
	for my $g (@{$gens // []}) {
		my ($valid) = gen_split($g);
		push @payloads, @$valid;
	}
	push @payloads, @{$o{extra} // []};
	my (%key, $data);
	my $dupkeys = 0;
	for my $p (@payloads) {
		my $row = expected_row($p);
		next if $key{"$row->{device_id}\0$row->{ts_ms}"}++;
		$data .= join(',', map { _csv($row->{$_}) } @COLS) . "\n";
	}
	my $n = keys %key;
	my $name = $o{name} // "positions holds exactly the $n expected rows, column by column";
	my $sel = 'device_id, ts, latitude, longitude, altitude, angle, satellites, speed, priority, '
	    . 'event_io_id, attributes';
	my $sql = <<"SQL";
create temp table harness_expected (device_id text, ts_ms bigint, latitude float8,
    longitude float8, altitude real, angle smallint, satellites smallint, speed real,
    priority smallint, event_io_id integer, attributes jsonb);
copy harness_expected from stdin with (format csv);
${\($data // '')}\\.
create temp view e as select device_id,
    'epoch'::timestamptz + ts_ms * interval '1 millisecond' as ts, latitude, longitude, altitude,
    angle, satellites, speed, priority, event_io_id, attributes from harness_expected;
create temp view a as select $sel from positions;
select 'expected', count(*) from e;
select 'stored', count(*) from a;
select 'missing', count(*) from (select * from e except all select * from a) x;
select 'extra', count(*) from (select * from a except all select * from e) x;
select 'missing-row', x::text from (select * from e except all select * from a order by 1, 2 limit 3) x;
select 'extra-row', x::text from (select * from a except all select * from e order by 1, 2 limit 3) x;
SQL
	my $out = $pg->psql($sql, timeout => 120);
	my %c;
	my @diag;
	for my $l (split /\n/, $out) {
		my ($k, $v) = split /\|/, $l, 2;
		if ($k =~ /-row$/) { push @diag, "$k: $v" } else { $c{$k} = $v }
	}
	my $ok = Test::More::ok($c{expected} == $n && $c{missing} == 0 && $c{extra} == 0
	    && $c{stored} == $n, $name);
	Test::More::diag("expected $n rows (table: $c{expected}), stored $c{stored}, missing "
	    . "$c{missing}, extra $c{extra}\n" . join("\n", @diag)) unless $ok;
	return $ok;
}

sub poison_ids
{
	my ($r, $gens, %o) = @_;
	my $stream = $o{stream} // 'telemetry:t';
	my %want;
	for my $g (@$gens) {
		my (undef, $poison) = gen_split($g);
		%want = (%want, %$poison);
	}
	my %out;
	my %found;
	my $start = '-';
	while (1) {
		my $chunk = $r->cmd('XRANGE', $stream, $start, '+', 'COUNT', 5000);
		last unless @$chunk;
		for my $e (@$chunk) {
			my %f = @{$e->[1] // []};
			my $p = exists $f{payload} ? $f{payload} : '';
			next unless exists $want{$p};
			next if !exists $f{payload} && !exists $f{data};
			$out{$e->[0]} = [$p, $want{$p}];
			$found{$p}++;
		}
		last if @$chunk < 5000;
		$start = '(' . $chunk->[-1][0];
	}
	my @lost = grep { !$found{$_} } keys %want;
	die "poison_ids: " . scalar(@lost) . " poison records not in $stream\n" if @lost;
	return \%out;
}

sub expect_dlq
{
	my ($r, $want, %o) = @_;
	my $stream = $o{stream} // 'telemetry:t';
	my $name = $o{name} // 'DLQ';
	my %got;
	for my $e (@{$r->cmd('XRANGE', "$stream:dlq", '-', '+')}) {
		my %f = @{$e->[1]};
		push @{$got{$f{id} // ''}}, \%f;
	}
	my @missing = grep { !$got{$_} } sort keys %$want;
	my @extra = grep { !exists $want->{$_} } sort keys %got;
	my @twice = grep { @{$got{$_}} > 1 } sort keys %got;
	my (@badpay, @badreason);
	for my $id (sort keys %$want) {
		my $f = $got{$id} or next;
		my ($pay, $reason, $how) = ref $want->{$id} ? @{$want->{$id}} : ($want->{$id});
		my $got = $f->[0]{payload};
		if (($how // '') eq 'prefix') {
			push @badpay, $id unless defined $got && length($got) > 0
			    && length($got) < length($pay) && substr($pay, 0, length $got) eq $got
			    && ($f->[0]{payload_len} // -1) == length $pay;
		} else {
			push @badpay, $id unless defined $got && $got eq $pay;
		}
		push @badreason, "$id: $f->[0]{reason} (want $reason)"
		    if defined $reason && ($f->[0]{reason} // '') ne $reason;
	}
	my $n = keys %$want;
	Test::More::ok(!@missing && !@extra && !@twice,
	    "$name: exactly the $n expected entry ids, each once")
	    or Test::More::diag("missing: @missing[0 .. ($#missing < 4 ? $#missing : 4)]; extra: "
	    . "@extra[0 .. ($#extra < 4 ? $#extra : 4)]; twice: @twice");
	Test::More::ok(!@badpay, "$name: each with its original payload bytes")
	    or Test::More::diag("payload differs for: @badpay");
	Test::More::ok(!@badreason, "$name: each with its expected reason")
	    or Test::More::diag(join("\n", @badreason));
	return { map { $_ => $got{$_}[0] } keys %got };
}

sub pending_by_consumer
{
	my ($r, $stream, $group) = @_;
	my $s = eval { $r->cmd('XPENDING', $stream, $group) } or return {};
	return { map { $_->[0] => $_->[1] } @{$s->[3] // []} };
}

sub pending_entries
{
	my ($r, $stream, $group, $count) = @_;
	my $l = eval { $r->cmd('XPENDING', $stream, $group, '-', '+', $count // 100_000) } // [];
	return map { +{ id => $_->[0], consumer => $_->[1], idle_ms => $_->[2],
	    deliveries => $_->[3] } } @$l;
}


=over

=item expect_settled(R, PG, [GEN...], timeout => 60, extra_rows => [PAYLOAD...], extra_dlq => { ID => [PAYLOAD, REASON] }, name => STR, todo_dlq => WHY)

The end state of a fault scenario: waits until nothing is pending, positions holds as many rows as
expected and the DLQ as many entries, then tests that every valid record is stored exactly once
(expect_rows), every poison record is in the DLQ once with its payload and reason (expect_dlq)
and nothing is pending (no consumer holds an entry).  todo_dlq marks the DLQ tests TODO
(a known defect, WHY).

=back

=cut

sub expect_settled
{
	my ($r, $pg, $gens, %o) = @_;
	my $stream = $o{stream} // 'telemetry:t';
	my $name = $o{name} // 'settled';
	my $rows = 0;
	my %dlq = %{$o{extra_dlq} // {}};
	my %seen;
	for my $g (@$gens) {
		my ($v) = gen_split($g);
		$seen{$_}++ for @$v;
	}
	$rows = keys(%seen) + @{$o{extra_rows} // []};
	%dlq = (%dlq, %{poison_ids($r, $gens, stream => $stream)});
	my $ndlq = keys %dlq;
	my ($nrows, $npend, $nd) = (0, 0, 0);
	my $ok = wait_until(sub {
		$npend = $r->pending($stream, 'processor');
		$nrows = $pg->psql('select count(*) from positions');
		$nd = eval { $r->xlen("$stream:dlq") } // 0;
		$npend == 0 && $nrows >= $rows && $nd >= $ndlq;
	}, timeout => $o{timeout} // 60, desc => "$name: $rows rows, $ndlq dead letters, nothing pending");
	Test::More::ok($ok, "$name: quiet (rows $nrows/$rows, dead letters $nd/$ndlq, pending $npend)");
	expect_rows($pg, $gens, extra => $o{extra_rows}, name => "$name: every valid record stored "
	    . "exactly once, compared by content ($rows rows)");
	my $tb = Test::More->builder;
	$tb->todo_start($o{todo_dlq}) if $o{todo_dlq};
	expect_dlq($r, \%dlq, stream => $stream, name => "$name: DLQ");
	$tb->todo_end if $o{todo_dlq};
	my $per = pending_by_consumer($r, $stream, 'processor');
	Test::More::is_deeply($per, {}, "$name: no consumer holds a pending entry");
	return $ok;
}

1;
