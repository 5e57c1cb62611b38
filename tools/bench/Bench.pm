# Benchmark building blocks shared by scripts/bench and t/800-bench-smoke.t.
package Bench;

=head1 NAME

Bench - drain, ceiling, steady-rate and resource measurements of processor

=head1 SYNOPSIS

    use lib "$src/t/lib", "$src/tools/bench";
    use Harness;
    use Bench;
    my $env = Bench::servers(relaxed => 0);
    my $fill = Bench::fill($env, n => 50_000, devices => 1000);
    my $d = Bench::drain($env, expect => $fill->{valid}, workers => 'auto');
    my $c = Bench::ceiling($env, expect => $fill->{valid});

Everything runs against a throwaway redis-server and PostgreSQL started with the test
harness (t/lib/Harness*); Harness tears them down at exit.

=cut

use strict;
use warnings;
use File::Temp ();
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);

use Harness;

our $STREAM = 'telemetry:t';
our $GROUP = 'processor';
# POSITION_COLUMNS of src/core/write.c: the ceiling loads exactly what processor sends,
# decoded (the IO bag rendered per model family, ~2.6x the raw bag) included.
our $COLS = 'device_id, ts, latitude, longitude, altitude, angle, satellites, speed, '
    . 'priority, event_io_id, attributes, decoded';
# min_wal_size of the benchmark's clusters, MB; the warm-up fills that much WAL.
my $WAL_KEEP_MB = 2048;
my $TICK = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
my $PAGE_KB = 4;

# PostgreSQL as it ships (durable) unless relaxed; the harness itself runs fsync=off.
# track_commit_timestamp is on in both: the steady mode reads commit times with it.
sub _pg_start
{
	my (%o) = @_;
	my %durable = (fsync => 'on', full_page_writes => 'on', synchronous_commit => 'on');
	my %relaxed = (fsync => 'off', full_page_writes => 'off', synchronous_commit => 'off');
	return Harness::Pg->start(conf => {
		%{$o{relaxed} ? \%relaxed : \%durable},
		shared_buffers => "'128MB'",	# PostgreSQL's default (the harness uses 32MB)
		# WAL sized for a backlog (OPERATIONS.md, "PostgreSQL for a backlog"): a 1M-row
		# load writes about 1.2 GB of WAL.  With the defaults (min 80MB, max 1GB) whatever
		# ran first had to create and zero-fill its segments inside COMMIT (XLogFileInit
		# under XLogFlush: 8 % of PostgreSQL's samples late in a 1M drain) while the ceiling
		# loads after it found them recycled; min_wal_size keeps them for every load.
		min_wal_size => "'$WAL_KEEP_MB" . "MB'",
		max_wal_size => "'4GB'",
		track_commit_timestamp => 'on',
		max_connections => 100,
		%{$o{pg_set} // {}},
	    },
	    # timescale undef: the harness default ($PROCESSOR_TEST_TIMESCALE)
	    defined $o{timescale} ? (timescale => $o{timescale}) : ());
}

# The servers: redis-server and a PostgreSQL cluster; timescale => 1 preloads TimescaleDB
# in it (positions then becomes a hypertable: Harness::Processor sets hypertable = on).
# $env->{storage} says which: plain or hypertable.
sub servers
{
	my (%o) = @_;
	my $pg = _pg_start(%o);
	my $r = Harness::Redis->start(conf => { 'maxmemory' => '0' });
	my $env = { pg => $pg, redis => $r, relaxed => $o{relaxed} ? 1 : 0, pg_set => $o{pg_set},
	    dir => Harness::tmpdir('bench'), storage => $pg->timescale ? 'hypertable' : 'plain' };
	$env->{by_storage}{$env->{storage}} = $env;
	chmod 0755, $env->{dir};
	return $env;
}

# The same servers with positions on STORAGE (plain or hypertable): the env itself, or one
# that shares its redis-server and temp dir and has a cluster of its own, started on first
# use with the same settings (a cluster that preloads TimescaleDB for hypertable, one that
# does not for plain).  Dies with the reason when TimescaleDB cannot be had.
sub storage_env
{
	my ($env, $storage) = @_;
	die "storage_env: plain or hypertable, not $storage\n" unless $storage =~ /^(plain|hypertable)$/;
	my $base = $env->{base} // $env;
	return $base->{by_storage}{$storage} if $base->{by_storage}{$storage};
	if ($storage eq 'hypertable') {
		my ($ok, $why) = Harness::timescale_available();
		die "hypertable storage: $why\n" unless $ok;
	}
	my $pg = _pg_start(relaxed => $base->{relaxed}, pg_set => $base->{pg_set},
	    timescale => $storage eq 'hypertable' ? 1 : 0);
	my $e = { %$base, pg => $pg, storage => $storage, base => $base };
	delete $e->{by_storage};
	return $base->{by_storage}{$storage} = $e;
}

# positions' storage as it is: hypertable (with its chunk interval and chunk count) or plain.
sub storage_info
{
	my ($env) = @_;
	my $pg = $env->{pg};
	my %i = (storage => 'plain');
	return \%i unless $pg->timescale;
	my $ht = $pg->psql("select count(*) from pg_extension where extname = 'timescaledb'") > 0
	    && $pg->psql("select count(*) from timescaledb_information.hypertables "
	    . "where hypertable_name = 'positions'") > 0;
	return \%i unless $ht;
	$i{storage} = 'hypertable';
	$i{chunk_interval} = $pg->psql("select time_interval from timescaledb_information.dimensions "
	    . "where hypertable_name = 'positions'");
	$i{chunks} = $pg->psql("select count(*) from timescaledb_information.chunks "
	    . "where hypertable_name = 'positions'") + 0;
	$i{timescaledb} = $pg->psql("select extversion from pg_extension where extname = 'timescaledb'");
	return \%i;
}

# A fresh cluster has no WAL segments to recycle: a load writing new WAL creates and
# zero-fills 16 MB files (fsynced with durability on) inside its COMMITs, which slows
# whatever runs first.  Write WAL into a scratch table until pg_wal holds min_wal_size
# ($WAL_KEEP_MB MB, more than a 1M-row load writes), so the drain and the ceiling loads
# that follow all find recycled segments (min_wal_size keeps them across checkpoints).
sub warmup
{
	my ($env) = @_;
	my $t0 = time;
	my $pg = $env->{pg};
	my $want = int($WAL_KEEP_MB / 16);
	for my $round (1 .. 20) {
		last if wal_segments($env) >= $want;
		$pg->psql("create table bench_warmup as select g, repeat('x', 400) as pad "
		    . "from generate_series(1, 1000000) g; drop table bench_warmup", timeout => 600);
	}
	$pg->psql('checkpoint', timeout => 600);
	my $have = wal_segments($env);
	die "warm-up: pg_wal holds $have segments after the checkpoint, want $want\n"
	    if $have < $want;
	return time - $t0;
}

# WAL segment files in pg_wal (current and recycled ones).
sub wal_segments
{
	my ($env) = @_;
	return $env->{pg}->psql("select count(*) from pg_ls_waldir() where name ~ '^[0-9A-F]{24}\$'") + 0;
}

# What the cluster runs with (SHOW), for the report.
sub settings
{
	my ($env) = @_;
	my %s;
	for my $k (qw(server_version fsync synchronous_commit full_page_writes wal_level
	    shared_buffers min_wal_size max_wal_size checkpoint_timeout track_commit_timestamp),
	    sort keys %{$env->{pg_set} // {}}) {
		$s{$k} = $env->{pg}->psql("show $k");
	}
	($s{redis_version}) = ($env->{redis}->cmd('INFO', 'server') =~ /redis_version:(\S+)/);
	$s{redis_persistence} = 'save "" (no RDB), appendonly no';
	$s{durability} = $env->{relaxed} ? 'relaxed (--relaxed: fsync, full_page_writes, '
	    . 'synchronous_commit off)' : 'PostgreSQL defaults (fsync, full_page_writes, '
	    . 'synchronous_commit on)';
	return \%s;
}

sub machine
{
	my %m = (cpus => scalar(() = (Harness::slurp('/proc/cpuinfo') =~ /^processor\s*:/mg)));
	($m{cpu_model}) = Harness::slurp('/proc/cpuinfo') =~ /^model name\s*:\s*(.+)$/m;
	my ($mem) = Harness::slurp('/proc/meminfo') =~ /^MemTotal:\s+(\d+)/m;
	$m{mem_gib} = sprintf('%.1f', ($mem // 0) / 1048576);
	$m{kernel} = (POSIX::uname())[2];
	$m{host} = (POSIX::uname())[1];
	return \%m;
}

# Empty stream and table, so every run starts alike.
sub reset_data
{
	my ($env) = @_;
	$env->{redis}->cmd('DEL', $STREAM, "$STREAM:dlq");
	my $has = $env->{pg}->psql("select to_regclass('public.positions') is not null");
	$env->{pg}->psql('truncate positions') if $has eq 't';
	$env->{pg}->psql('truncate race_dirty, race_marks, race_cursor, race_penalties')
	    if $env->{pg}->psql("select to_regclass('public.race_dirty') is not null") eq 't';
	$env->{pg}->psql('truncate timing_records, stage_results')
	    if $env->{pg}->psql("select to_regclass('public.stage_results') is not null") eq 't';
	$env->{pg}->psql('drop table if exists positions_ceiling');
	$env->{pg}->psql('checkpoint');
}

# Pre-fill the stream (tools/gen, deterministic); returns gen's summary.
sub fill
{
	my ($env, %o) = @_;
	reset_data($env);
	my $t0 = time;
	my $sum = Harness::gen(redis => $env->{redis}, n => $o{n}, devices => $o{devices},
	    seed => $o{seed} // 1, pipeline => 1000, timeout => 1800,
	    defined $o{shape} ? (shape => $o{shape}) : ());
	$sum->{fill_seconds} = time - $t0;
	return $sum;
}

# --- processes -------------------------------------------------------------------------

sub _stat_fields
{
	my ($pid) = @_;
	my $s = Harness::slurp("/proc/$pid/stat");
	$s =~ s/^.*\)\s+// or return;
	return split /\s+/, $s;
}

# user+sys seconds of one pid (undef when gone)
sub cpu_of
{
	my ($pid) = @_;
	my @f = _stat_fields($pid) or return undef;
	return ($f[11] + $f[12]) / $TICK;	# utime stime (fields 14, 15)
}

sub mem_of
{
	my ($pid) = @_;
	my $s = Harness::slurp("/proc/$pid/status");
	my ($rss) = $s =~ /^VmRSS:\s+(\d+)/m;
	my ($hwm) = $s =~ /^VmHWM:\s+(\d+)/m;
	return defined $rss ? { rss_kb => $rss, hwm_kb => $hwm } : undef;
}

# Tracks CPU and memory of a set of processes over time; a process that goes away keeps
# the last values seen.
sub tracker
{
	my ($list) = @_;	# code ref returning the pids of interest
	return bless { list => $list, cpu => {}, mem => {}, first => {}, listed => 0 },
	    'Bench::Tracker';
}

package Bench::Tracker;
use Time::HiRes qw(time);

sub sample
{
	my ($self) = @_;
	if (time - $self->{listed} > 0.5 || !%{$self->{cpu}}) {
		$self->{pids} = [$self->{list}->()];
		$self->{listed} = time;
	}
	for my $pid (@{$self->{pids}}) {
		my $c = Bench::cpu_of($pid);
		$self->{cpu}{$pid} = $c if defined $c;
		my $m = Bench::mem_of($pid);
		next unless $m;
		$self->{first}{$pid} //= $m;
		$self->{mem}{$pid} = $m;
	}
}

sub cpu_total
{
	my ($self) = @_;
	my $t = 0;
	$t += $_ for values %{$self->{cpu}};
	return $t;
}

sub mem { $_[0]{mem} }
sub first_mem { $_[0]{first} }

package Bench;

# /proc/stat's cpu line: (user nice system idle iowait irq softirq steal) in ticks
sub cpu_times
{
	my ($l) = Harness::slurp('/proc/stat') =~ /^cpu\s+(.*)$/m;
	return [(split /\s+/, $l // '')[0 .. 7]];
}

# Share of the machine's CPU time between two cpu_times: busy, idle, iowait, steal (%).
sub cpu_share
{
	my ($a, $b) = @_;
	my @d = map { ($b->[$_] // 0) - ($a->[$_] // 0) } 0 .. 7;
	my $tot = 0;
	$tot += $_ for @d;
	return undef unless $tot > 0;
	return { busy_pct => 100 * ($d[0] + $d[1] + $d[2] + $d[5] + $d[6]) / $tot,
	    idle_pct => 100 * $d[3] / $tot, iowait_pct => 100 * $d[4] / $tot,
	    steal_pct => 100 * $d[7] / $tot };
}

sub processor_pids
{
	my ($p) = @_;
	return $p->group_pids;
}

# CPU seconds PostgreSQL has used so far: the postmaster's own and its reaped children's
# (utime stime cutime cstime), plus what each live child has used.  The difference of two
# readings counts backends that exited in between too (psql sessions of the ceiling).
# A backend that has exited but is not yet reaped (a zombie) is counted by neither, so the
# reading first waits (up to 5 s) until the postmaster has no zombie children.
sub pg_cpu
{
	my ($env) = @_;
	my $pm = $env->{pg}->pid or return undef;
	my $zombies = sub {
		grep { my @f = _stat_fields($_); @f && $f[1] == $pm && $f[0] eq 'Z' } Harness::_all_pids();
	};
	Harness::wait_until(sub { !$zombies->() }, timeout => 5, interval => 0.01, quiet => 1);
	my @f = _stat_fields($pm) or return undef;
	my $t = ($f[11] + $f[12] + $f[13] + $f[14]) / $TICK;
	for my $pid (Harness::descendants_of($pm)) {
		my $c = cpu_of($pid);
		$t += $c if defined $c;
	}
	return $t;
}

# PostgreSQL's WAL and checkpoint counters (pg_stat_wal, pg_stat_bgwriter), cluster-wide:
# two readings around a load tell how much WAL it wrote, how much of that was full-page
# images (the first change of a page after a checkpoint), how many checkpoints ran in it
# and how many buffers the backends had to write themselves.  Why a long load is slower
# per row than a short one is in these.
my @WAL_FIELDS = qw(wal_records wal_fpi wal_bytes wal_write wal_sync
    checkpoints_timed checkpoints_req buffers_checkpoint buffers_clean buffers_backend
    buffers_backend_fsync);
sub pg_wal
{
	my ($env) = @_;
	# unaligned output (-A): the fields come separated by '|'
	my $r = eval { $env->{pg}->psql('select ' . join(', ', @WAL_FIELDS)
	    . ' from pg_stat_wal, pg_stat_bgwriter') };
	return undef unless defined $r;
	my @v = split /\|/, $r;
	return undef unless @v == @WAL_FIELDS;
	my %h;
	@h{@WAL_FIELDS} = @v;
	$h{wal_segments} = eval { wal_segments($env) };
	return \%h;
}

# The difference of two pg_wal readings, with WAL bytes and full-page images per row.
sub pg_wal_delta
{
	my ($w0, $w1, $rows) = @_;
	return undef unless $w0 && $w1;
	my %d = map { $_ => $w1->{$_} - $w0->{$_} } @WAL_FIELDS;
	# net segments added to pg_wal: > 0 means the load created (zero-filled) segments
	$d{wal_segments_added} = $w1->{wal_segments} - $w0->{wal_segments}
	    if defined $w0->{wal_segments} && defined $w1->{wal_segments};
	if ($rows) {
		$d{wal_bytes_per_row} = $d{wal_bytes} / $rows;
		$d{fpi_per_1000_rows} = $d{wal_fpi} * 1000 / $rows;
	}
	return \%d;
}

sub pg_pids
{
	my ($env) = @_;
	my $pm = $env->{pg}->pid or return ();
	return ($pm, Harness::descendants_of($pm));
}

# The group's progress: { read, pending, lag, xlen } (undef before the group exists).
sub group_state
{
	my ($env) = @_;
	my $r = $env->{redis};
	my $groups = eval { $r->cmd('XINFO', 'GROUPS', $STREAM) } or return undef;
	for my $g (@$groups) {
		my %h = @$g;
		next unless ($h{name} // '') eq $GROUP;
		return { read => $h{'entries-read'}, pending => $h{pending}, lag => $h{lag},
		    xlen => $r->cmd('XLEN', $STREAM) };
	}
	return undef;
}

sub start_processor
{
	my ($env, %o) = @_;
	return Harness::Processor->start(redis => $env->{redis}, pg => $env->{pg},
	    config => {
		processor => { workers => $o{workers} // 'auto', log_level => 'info',
		    max_devices => $o{max_devices} // 100000,
		    $o{max_inflight} ? (max_inflight => $o{max_inflight}) : () },
		redis => { batch_size => $o{batch_size} // 500, consumer_prefix => 'bench',
		    $o{block_ms} // 200 ? (block_ms => $o{block_ms} // 200) : () },
		domain => { evaluators => $o{evaluators} // 'auto', refresh_ms => 1000,
		    defined $o{catchup_ms} ? (catchup_interval_ms => $o{catchup_ms}) : () },
	    });
}

# Idle shutdown: processor started with the default BLOCK (2 s), left until every worker's
# XREADGROUP is blocked in Redis, then SIGTERM; seconds from the signal to the master's
# exit (all children gone), $o{runs} times.
sub idle_stop
{
	my ($env, %o) = @_;
	my @runs;
	reset_data($env);
	for (1 .. ($o{runs} // 3)) {
		my $p = start_processor($env, %o, block_ms => 0);
		$p->wait_ready(60) or die "idle stop: processor not ready\n";
		my $workers;
		Harness::wait_until(sub { $workers = metric_sum(scrape_metrics($p),
		    'processor_workers_configured') }, timeout => 30, interval => 0.05)
		    or die "idle stop: no processor_workers_configured in /metrics\n";
		Harness::wait_until(sub { blocked_reads($env) >= $workers }, timeout => 30,
		    interval => 0.05) or die "idle stop: the workers' reads never blocked\n";
		my $t0 = time;
		$p->signal('TERM');
		my $rc = $p->wait_exit(60);
		my $took = time - $t0;
		die "idle stop: exit " . ($rc // 'none') . "\n" unless defined $rc && $rc == 0;
		$p->check_log(quiet => 1);
		push @runs, $took;
	}
	my @s = sort { $a <=> $b } @runs;
	return { runs => \@runs, median_s => $s[$#s / 2], max_s => $s[-1] };
}

# Reads blocked in Redis now (XREADGROUP ... BLOCK waiting for entries).
sub blocked_reads
{
	my ($env) = @_;
	return scalar grep { /\bcmd=xreadgroup\b/ && /\bflags=\S*b/ }
	    split /\n/, $env->{redis}->cmd('CLIENT', 'LIST');
}

sub stop_processor
{
	my ($p) = @_;
	$p->check_log(quiet => 1);	# no TAP output from the bench; failures still print
	my $rc = $p->stop(60);
	return $rc;
}

# GET /metrics if the daemon serves it (the master's HTTP); undef otherwise.
sub scrape_metrics
{
	my ($p) = @_;
	my $port = $p->http_port or return undef;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2)
	    or return undef;
	print $s "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	local $/;
	my $resp = <$s> // '';
	close $s;
	return undef unless $resp =~ m{^HTTP/1\.\d 200};
	$resp =~ s/^.*?\r\n\r\n//s;
	return $resp;
}

sub metric_sum
{
	my ($text, $name) = @_;
	return undef unless defined $text;
	my ($sum, $seen) = (0, 0);
	for (split /\n/, $text) {
		next unless /^\Q$name\E(?:\{[^}]*\})?\s+(\S+)/;
		$sum += $1;
		$seen = 1;
	}
	return $seen ? $sum : undef;
}

# Quantiles of a Prometheus histogram (summed over label sets other than le): the upper
# bound of the bucket holding each quantile, as Prometheus' histogram_quantile would bound it.
sub hist_quantiles
{
	my ($text, $name) = @_;
	return undef unless defined $text;
	my %cum;
	for (split /\n/, $text) {
		next unless /^\Q$name\E_bucket\{(.*)\}\s+(\S+)/;
		my ($labels, $v) = ($1, $2);
		my ($le) = $labels =~ /le="([^"]+)"/ or next;
		$cum{$le} += $v;
	}
	return undef unless %cum;
	my @le = sort { ($a eq '+Inf' ? 9e99 : $a) <=> ($b eq '+Inf' ? 9e99 : $b) } keys %cum;
	my $n = $cum{$le[-1]} or return undef;
	my %q = (count => $n);
	for my $p (0.5, 0.95, 0.99) {
		my ($le) = grep { $cum{$_} >= $p * $n } @le;
		$q{'p' . ($p * 100) . '_le_s'} = $le;
	}
	return \%q;
}

# Drain the pre-filled stream with a fresh processor; time from spawn until every entry
# was read and acknowledged (processor ACKs only after COMMIT), sampled every 100 ms.
sub drain
{
	my ($env, %o) = @_;
	my $expect = $o{expect} or die "drain: expect needed\n";
	my $timeout = $o{timeout} // 1800;
	my $gs0 = group_state($env);
	my $xlen = $env->{redis}->cmd('XLEN', $STREAM);
	my $t0 = time;
	my $ct0 = cpu_times();
	my $p = start_processor($env, %o);
	my $trk = tracker(sub { processor_pids($p) });
	my $pgtrk = tracker(sub { pg_pids($env) });
	my $rtrk = tracker(sub { $env->{redis}->pid });
	$_->sample for $pgtrk, $rtrk;
	my ($pg_cpu0, $r_cpu0) = (pg_cpu($env), $rtrk->cpu_total);
	my $wal0 = pg_wal($env);
	my (@series, $t_ready, $done, $metrics);
	my $next_mem = 0;
	while (1) {
		my $now = time;
		$trk->sample;
		my $gs = group_state($env);
		if ($gs) {
			my $acked = ($gs->{read} // 0) - $gs->{pending};
			push @series, [sprintf('%.2f', $now - $t0), $acked];
			if (($gs->{read} // 0) >= $xlen && $gs->{pending} == 0) {
				$done = $now;
				last;
			}
		}
		if (!$t_ready && $p->_find(sub { ($_->{message} // '') =~ /\bready\b/ }, 0)) {
			$t_ready = $now;
		}
		die "processor exited during the drain (rc " . ($p->exit_code // '?') . "):\n"
		    . Harness::tail($p->log_path, 20) . "\n" unless $p->running;
		die "drain: not done after ${timeout}s\n" if $now - $t0 > $timeout;
		sleep 0.1;
	}
	$trk->sample;
	$_->sample for $pgtrk, $rtrk;
	my $machine = cpu_share($ct0, cpu_times());
	my $pg_cpu1 = pg_cpu($env);
	my $wal1 = pg_wal($env);
	my $secs = $done - $t0;
	my $cpu = $trk->cpu_total;
	my $rows = $env->{pg}->psql('select count(*) from positions');
	$metrics = scrape_metrics($p);
	my %mem = %{$trk->mem};
	my %first = %{$trk->first_mem};
	my $after = $o{after} ? $o{after}->($p) : undef;
	my $rc = stop_processor($p);
	my $log = Harness::slurp($p->log_path);
	my ($inserted) = $log =~ /inserted (\d+)/;

	# rate over the middle 10%..90% of the rows too (start-up and tail excluded)
	my ($lo, $hi);
	for my $s (@series) {
		$lo //= $s if $s->[1] >= 0.1 * $expect;
		$hi //= $s if $s->[1] >= 0.9 * $expect;
	}
	my $mid = $lo && $hi && $hi->[0] > $lo->[0]
	    ? ($hi->[1] - $lo->[1]) / ($hi->[0] - $lo->[0]) : undef;
	my @w = sort { $a <=> $b } keys %mem;
	return {
		workers => $o{workers} // 'auto',
		batch_size => $o{batch_size} // 500,
		entries => $xlen,
		rows => $rows + 0,
		expect => $expect,
		seconds => $secs,
		rows_per_s => $rows / $secs,
		rows_per_s_10_90 => $mid,
		ready_after_s => $t_ready ? $t_ready - $t0 : undef,
		cpu_s => $cpu,
		cpu_us_per_row => $rows ? $cpu * 1e6 / $rows : undef,
		pg_cpu_us_per_row => $rows && defined $pg_cpu0 && defined $pg_cpu1
		    ? ($pg_cpu1 - $pg_cpu0) * 1e6 / $rows : undef,
		redis_cpu_us_per_row => $rows ? ($rtrk->cpu_total - $r_cpu0) * 1e6 / $rows : undef,
		processes => scalar(@w),
		rss => { map { $_ => { first_kb => $first{$_}{rss_kb}, last_kb => $mem{$_}{rss_kb},
		    hwm_kb => $mem{$_}{hwm_kb} } } @w },
		peak_rss_kb_max => (sort { $b <=> $a } map { $mem{$_}{hwm_kb} // 0 } @w)[0],
		peak_rss_kb_total => eval { my $t = 0; $t += $mem{$_}{hwm_kb} // 0 for @w; $t },
		machine_cpu => $machine,
		wal => pg_wal_delta($wal0, $wal1, $rows),
		devices_tracked => metric_sum($metrics, 'processor_devices_tracked'),
		exit_code => $rc,
		inserted_logged => $inserted,
		series => \@series,
		defined $after ? (after => $after) : (),
		%{storage_info($env)},
	};
}

# --- the racing rules ------------------------------------------------------------------

# An event in the contract tables over the devices of the rows in positions: one running
# stage whose window spans them, $o{entries} entries, $o{gates} line gates (start, splits,
# finish; 60 m across, through fixes of the devices so that cars cross them) and
# $o{zones} speed zones (circles of 300 m around fixes, limit 50 km/h).
sub load_event
{
	my ($env, %o) = @_;
	my $pg = $env->{pg};
	my ($ng, $nz, $ne) = ($o{gates} // 20, $o{zones} // 5, $o{entries} // 1000);
	my $has = $pg->psql("select to_regclass('public.stages') is not null");
	$pg->psql(Harness::slurp(Harness::srcdir() . '/sql/directus/0001_contract.sql'))
	    unless $has eq 't';
	$pg->psql('truncate events, stages, gates, entries, timing_records, stage_results '
	    . 'cascade');
	$pg->psql(q{insert into events (code, name, status) values ('BENCH', 'bench', 'running')});
	# the window spans the rows and today (the steady phase publishes current fixes)
	$pg->psql(q{insert into stages (event_id, stage_order, name, opens_at, closes_at, status)
	    select e.id, 1, 'SS1', least(min(p.ts), now()) - interval '1 day',
	    greatest(max(p.ts), now()) + interval '1 day', 'running' from events e, positions p
	    group by e.id});
	# gates through fixes spread over the rows: a 60 m east-west line (about 0.00077 deg)
	$pg->psql(qq{insert into gates (stage_id, kind, gate_order, geometry)
	    select s.id, case when g.n = 0 then 'start' when g.n = $ng - 1 then 'finish'
	    else 'split' end, g.n, json_build_object('type', 'line', 'a',
	    json_build_array(g.lat, g.lon - 0.00039), 'b', json_build_array(g.lat, g.lon + 0.00039))
	    from stages s, (select row_number() over () - 1 as n, latitude as lat,
	    longitude as lon from (select latitude, longitude from positions
	    tablesample system (1) limit $ng) x) g});
	$pg->psql(qq{insert into gates (stage_id, kind, gate_order, geometry, speed_limit_kmh,
	    penalty_rule) select s.id, 'speed_zone', 100 + z.n, json_build_object('type', 'circle',
	    'center', json_build_array(z.lat, z.lon), 'radius_m', 300), 50,
	    '{"kind": "time_gained", "factor": 10}'::jsonb from stages s,
	    (select row_number() over () as n, latitude as lat, longitude as lon from
	    (select latitude, longitude from positions tablesample system (1) limit $nz) x) z});
	$pg->psql(qq{insert into entries (event_id, car_number, device_id)
	    select e.id, row_number() over (order by d.device_id), d.device_id from events e,
	    (select distinct device_id from positions order by 1 limit $ne) d});
	return { gates => $pg->psql(q{select count(*) from gates where kind <> 'speed_zone'}) + 0,
	    zones => $pg->psql(q{select count(*) from gates where kind = 'speed_zone'}) + 0,
	    entries => $pg->psql('select count(*) from entries') + 0 };
}

# After a drain with the racing rules on: how long until every marked device was
# evaluated (race_dirty and race_marks empty), and what the evaluator did.
sub domain_settle
{
	my ($env, $p, %o) = @_;
	my $t0 = time;
	my $deadline = $t0 + ($o{timeout} // 1800);
	while ($env->{pg}->psql('select (select count(*) from race_dirty) + '
	    . '(select count(*) from race_marks)') > 0) {
		die "domain: evaluation not settled after " . ($o{timeout} // 1800) . " s\n"
		    if time > $deadline;
		sleep 0.2;
	}
	my $m = scrape_metrics($p);
	return { settle_seconds => time - $t0,
	    evaluations => metric_sum($m, 'processor_fixes_evaluated_total'),
	    deferred => metric_sum($m, 'processor_race_deferred_total'),
	    timing_records => $env->{pg}->psql('select count(*) from timing_records') + 0,
	    stage_results => $env->{pg}->psql('select count(*) from stage_results') + 0,
	    latency => hist_quantiles($m, 'processor_timing_latency_seconds') };
}

# --- the ceiling -------------------------------------------------------------------------

# positions_ceiling: an empty copy of positions (LIKE ... INCLUDING ALL: columns, defaults,
# the unique key and every other index), made a hypertable with positions' chunk interval
# when positions is one (create_default_indexes off: LIKE copied positions' indexes).
sub _ceiling_table
{
	my ($env) = @_;
	my $pg = $env->{pg};
	my $info = storage_info($env);
	$pg->psql('drop table if exists positions_ceiling; '
	    . 'create table positions_ceiling (like positions including all)');
	if ($info->{storage} eq 'hypertable') {
		$pg->psql("select create_hypertable('positions_ceiling', 'ts', chunk_time_interval => "
		    . "interval '$info->{chunk_interval}', create_default_indexes => false)");
	}
	$pg->psql('checkpoint');
	return $info->{storage};
}

# temp_buffers for a session that stages BYTES of binary COPY data: room for the whole
# staging table (the heap takes about 1.5x the COPY data), so that ceiling (b) does not
# write its temp table out and read it back; processor's staging table (one batch) always
# fits in the default 8MB, and its fast path stages nothing.
sub _stage_buffers
{
	my ($bytes) = @_;
	my $mb = int(($bytes // 0) * 1.5 / 1048576) + 16;
	return "set temp_buffers = '${mb}MB';\n";
}

sub _ceiling_check
{
	my ($env, $what, $n) = @_;
	my $got = $env->{pg}->psql('select count(*) from positions_ceiling');
	die "ceiling ($what): loaded $got rows, want $n\n" unless $got == $n;
}

# PostgreSQL's own ingest of exactly the rows in positions, into an identical table:
# (a) one COPY by psql from a file; (b) COPY into a temp table + INSERT ... SELECT ...
# ON CONFLICT DO NOTHING, one session, one transaction.  Binary COPY format, as the
# processor sends it.  A CHECKPOINT before each load so both start alike.  On a hypertable
# positions_ceiling is a hypertable too.  (b) also reports PostgreSQL's CPU per row and the
# machine's CPU shares over the load.
sub ceiling
{
	my ($env, %o) = @_;
	my $pg = $env->{pg};
	my $file = "$env->{dir}/positions.copy";
	unlink $file;
	my $t = time;
	$pg->psql("\\copy (select $COLS from positions) to '$file' with (format binary)",
	    timeout => 1800);
	my $export_s = time - $t;
	my $n = $pg->psql('select count(*) from positions');
	my %res = (rows => $n + 0, export_seconds => $export_s, file_bytes => -s $file,
	    format => 'binary');
	my %sql = (
	    a => "\\copy positions_ceiling ($COLS) from '$file' with (format binary)\n",
	    b => _stage_buffers(-s $file) . "begin;\n"
		. "create temp table stage (like positions_ceiling including defaults) on commit drop;\n"
		. "\\copy stage ($COLS) from '$file' with (format binary)\n"
		. "insert into positions_ceiling ($COLS) select $COLS from stage "
		. "on conflict (device_id, ts) do nothing;\n"
		. "commit;\n",
	);
	for my $k (qw(a b)) {
		$res{storage} = _ceiling_table($env);
		my ($c0, $ct0, $w0) = (pg_cpu($env), cpu_times(), pg_wal($env));
		my $t0 = time;
		$pg->psql($sql{$k}, timeout => 1800);
		my $secs = time - $t0;
		my ($c1, $ct1, $w1) = (pg_cpu($env), cpu_times(), pg_wal($env));
		_ceiling_check($env, $k, $n);
		$res{$k} = { seconds => $secs, rows_per_s => $n / $secs,
		    wal => pg_wal_delta($w0, $w1, $n),
		    pg_cpu_us_per_row => $n && defined $c0 && defined $c1 ? ($c1 - $c0) * 1e6 / $n : undef,
		    machine_cpu => cpu_share($ct0, $ct1) };
	}
	$pg->psql('drop table positions_ceiling; checkpoint');
	unlink $file unless $o{keep_file};
	return \%res;
}

# Ceiling (b) with K parallel psql sessions on the same rows, for each K of sessions
# (default 1,2,4,8): positions is exported once into M = max(K) binary files (every M-th
# row of its physical order, about insertion order); session j of K loads the files
# p with p % K == j: BEGIN, COPY into a temp table, INSERT ... SELECT ... ON CONFLICT DO
# NOTHING, COMMIT, all sessions at once into one positions_ceiling.  Time from the first
# spawn to the last exit.
sub ceiling_parallel
{
	my ($env, %o) = @_;
	my @k = @{$o{sessions} // [1, 2, 4, 8]};
	my $pg = $env->{pg};
	my $m = (sort { $b <=> $a } @k)[0];
	my $n = $pg->psql('select count(*) from positions');
	my $psql = Harness::which('psql') or die "psql not found\n";
	my @files = map { "$env->{dir}/positions-part$_.copy" } 0 .. $m - 1;
	for my $p (0 .. $m - 1) {
		$pg->psql("\\copy (select $COLS from (select $COLS, row_number() over () as rn "
		    . "from positions) s where rn % $m = $p) to '$files[$p]' with (format binary)",
		    timeout => 1800);
	}
	my @res;
	for my $k (@k) {
		my $storage = _ceiling_table($env);
		my @pids;
		my @sqlf = map { "$env->{dir}/ceiling-$k-$_.sql" } 0 .. $k - 1;
		for my $j (0 .. $k - 1) {
			open(my $fh, '>', $sqlf[$j]) or die "$sqlf[$j]: $!";
			my $bytes = 0;
			$bytes += -s $files[$_] for grep { $_ % $k == $j } 0 .. $m - 1;
			print $fh _stage_buffers($bytes) . "begin;\n"
			    . "create temp table stage (like positions_ceiling including defaults) on commit drop;\n";
			print $fh "\\copy stage ($COLS) from '$files[$_]' with (format binary)\n"
			    for grep { $_ % $k == $j } 0 .. $m - 1;
			print $fh "insert into positions_ceiling ($COLS) select $COLS from stage "
			    . "on conflict (device_id, ts) do nothing;\ncommit;\n";
			close $fh;
		}
		my ($c0, $ct0) = (pg_cpu($env), cpu_times());
		my $t0 = time;
		for my $j (0 .. $k - 1) {
			push @pids, Harness::spawn(cmd => [$psql, '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			    '-h', '127.0.0.1', '-p', $pg->port, '-U', 'postgres', '-d', $pg->dbname,
			    '-f', $sqlf[$j]], log => "$env->{dir}/ceiling-$k-$j.log",
			    env => { PGTZ => 'UTC', PGOPTIONS => undef, PGHOST => undef,
			    PGDATABASE => undef, PGUSER => undef, PGAPPNAME => 'bench-ceiling' });
		}
		for my $j (0 .. $#pids) {
			my $st = Harness::wait_pid_gone($pids[$j], 1800);
			die "ceiling x$k: session $j failed: "
			    . Harness::slurp("$env->{dir}/ceiling-$k-$j.log") . "\n"
			    unless defined $st && $st == 0;
		}
		my $secs = time - $t0;
		my ($c1, $ct1) = (pg_cpu($env), cpu_times());
		_ceiling_check($env, "b x$k", $n);
		push @res, { sessions => $k, rows => $n + 0, seconds => $secs, rows_per_s => $n / $secs,
		    storage => $storage,
		    pg_cpu_us_per_row => $n && defined $c0 && defined $c1 ? ($c1 - $c0) * 1e6 / $n : undef,
		    machine_cpu => cpu_share($ct0, $ct1) };
	}
	$pg->psql('drop table positions_ceiling; checkpoint');
	unlink @files;
	return \@res;
}

# Where a series of (n, rows/s) stops growing: the first n whose next step gains less than
# 5%, or the last n when every step gains.  Returns (n, peak n, peak rows/s).
sub knee
{
	my (@pts) = sort { $a->[0] <=> $b->[0] } @_;
	return () unless @pts;
	my $stop = $pts[-1][0];
	for my $i (0 .. $#pts - 1) {
		if ($pts[$i + 1][1] < 1.05 * $pts[$i][1]) {
			$stop = $pts[$i][0];
			last;
		}
	}
	my ($peak) = sort { $b->[1] <=> $a->[1] } @pts;
	return ($stop, $peak->[0], $peak->[1]);
}

# --- steady mode -------------------------------------------------------------------------

sub _pct
{
	my ($sorted, $p) = @_;
	return undef unless @$sorted;
	my $i = int($p * @$sorted + 0.5) - 1;
	$i = 0 if $i < 0;
	$i = $#$sorted if $i > $#$sorted;
	return $sorted->[$i];
}

# A publisher offers R records/s for T seconds (tools/gen -r) to a running processor.
# Latency of each row = its commit time (pg_xact_commit_timestamp(xmin), needs
# track_commit_timestamp) - the ms part of its stream entry id (Redis's clock at XADD);
# the same machine's clock on both sides.  received_at (now() = BEGIN time) gives a
# second, slightly smaller figure.  The group's lag is sampled every second.
sub steady
{
	my ($env, %o) = @_;
	my ($rate, $secs, $dev) = ($o{rate} // 5000, $o{seconds} // 30, $o{devices} // 1000);
	reset_data($env);
	my $p = start_processor($env, %o);
	$p->wait_ready(60) or die "steady: processor not ready\n";
	my $trk = tracker(sub { processor_pids($p) });
	$trk->sample;
	my $n = int($rate * $secs);
	my $genlog = "$env->{dir}/gen-steady.log";
	my $t0 = time;
	my $gpid = Harness::spawn(cmd => [Harness::builddir() . '/tools/gen', '-q', '-u',
	    $env->{redis}->url, '-n', $n, '-d', $dev, '-S', 2, '-r', $rate,
	    $o{shape} ? ('-k', $o{shape}) : ()], log => $genlog);
	my (@lag, $gen_done);
	my $next = $t0 + 1;
	while (1) {
		my $now = time;
		if (!$gen_done) {
			my $st = Harness::wait_pid_gone($gpid, 0.001);
			if (defined $st) {
				die "steady: gen failed: " . Harness::slurp($genlog) if $st != 0;
				$gen_done = $now;
			}
		}
		if ($now >= $next) {
			$trk->sample;
			my $gs = group_state($env);
			my $tot = 0;
			$tot += $_->{rss_kb} for values %{$trk->mem};
			push @lag, { t => sprintf('%.1f', $now - $t0), xlen => $gs->{xlen},
			    lag => $gs->{lag}, pending => $gs->{pending},
			    backlog => $gs->{xlen} - ($gs->{read} // 0) + $gs->{pending},
			    rss_kb => $tot };
			$next += 1;
		}
		if ($gen_done) {
			my $gs = group_state($env);
			last if $gs && $gs->{xlen} >= $n && ($gs->{read} // 0) >= $gs->{xlen}
			    && $gs->{pending} == 0;
		}
		die "steady: not drained 120 s after the publisher\n"
		    if $gen_done && $now - $gen_done > 120;
		sleep 0.05;
	}
	$trk->sample;
	my $cpu = $trk->cpu_total;
	my $metrics = scrape_metrics($p);
	my %mem = %{$trk->mem};
	my $after = $o{after} ? $o{after}->($p) : undef;
	stop_processor($p);
	my $gsum = eval { JSON::PP::decode_json((grep { /^\{/ } split /\n/,
	    Harness::slurp($genlog))[0] // '{}') } // {};

	# entry id ms per (device, ts): dump the stream into a table, join in PostgreSQL
	my $map = "$env->{dir}/entries.tsv";
	open(my $fh, '>', $map) or die "$map: $!";
	my ($start, $count) = ('-', 0);
	while (1) {
		my $r = $env->{redis}->cmd('XRANGE', $STREAM, $start, '+', 'COUNT', 10000);
		last unless $r && @$r;
		for my $e (@$r) {
			my ($id, $f) = @$e;
			my %f = @$f;
			my $pl = $f{payload} // next;
			my ($ms) = $id =~ /^(\d+)-/;
			my ($devid) = $pl =~ /"device_id":"([^"]+)"/;
			my ($ts) = $pl =~ /"timestamp":("[^"]+"|\d+)/;
			next unless defined $devid && defined $ts;
			$ts =~ s/"//g;
			print $fh "$ms\t$devid\t$ts\n";
			$count++;
		}
		my ($ms, $seq) = $r->[-1][0] =~ /^(\d+)-(\d+)$/;
		$start = "$ms-" . ($seq + 1);
	}
	close $fh;
	my $pg = $env->{pg};
	$pg->psql("drop table if exists bench_entries; "
	    . "create table bench_entries (entry_ms bigint, device_id text, ts_raw text);\n"
	    . "\\copy bench_entries from '$map'\n"
	    . "alter table bench_entries add column ts timestamptz;\n"
	    . "update bench_entries set ts = case when ts_raw ~ '^[0-9]+\$' then "
	    . "timestamptz 'epoch' + ts_raw::bigint * interval '1 millisecond' "
	    . "else ts_raw::timestamptz end;\n"
	    . "analyze bench_entries;", timeout => 600);
	my $out = $pg->psql(
	    "select extract(epoch from pg_xact_commit_timestamp(p.xmin) "
	    . "  - (timestamptz 'epoch' + e.entry_ms * interval '1 millisecond')) * 1000, "
	    . " extract(epoch from p.received_at "
	    . "  - (timestamptz 'epoch' + e.entry_ms * interval '1 millisecond')) * 1000 "
	    . "from positions p join bench_entries e using (device_id, ts)", timeout => 600);
	my (@c, @r);
	for (split /\n/, $out) {
		my ($c, $r) = split /\|/;
		push @c, $c;
		push @r, $r;
	}
	@c = sort { $a <=> $b } @c;
	@r = sort { $a <=> $b } @r;
	my %lat = (rows => scalar(@c));
	for ([commit => \@c], [received_at => \@r]) {
		my ($k, $v) = @$_;
		$lat{$k} = { p50_ms => _pct($v, 0.50), p95_ms => _pct($v, 0.95),
		    p99_ms => _pct($v, 0.99), max_ms => $v->[-1], min_ms => $v->[0] };
	}
	my @bl = map { $_->{backlog} } @lag;
	my $half = int(@lag / 2);
	my ($b1, $b2) = (0, 0);
	$b1 = (sort { $b <=> $a } @bl[0 .. $half - 1])[0] // 0 if $half;
	$b2 = (sort { $b <=> $a } @bl[$half .. $#bl])[0] // 0 if @bl;
	my @w = sort { $a <=> $b } keys %mem;
	return {
		defined $after ? (after => $after) : (),
		rate => $rate, seconds => $secs, devices => $dev, records => $n,
		entries_mapped => $count,
		publisher => $gsum,
		publish_seconds => $gen_done - $t0,
		latency => \%lat,
		lag_series => \@lag,
		backlog_max => (sort { $b <=> $a } @bl)[0],
		backlog_max_first_half => $b1,
		backlog_max_second_half => $b2,
		cpu_s => $cpu,
		cpu_us_per_row => @c ? $cpu * 1e6 / @c : undef,
		rss_first_kb => eval { my $t = 0; $t += $_->{rss_kb} for values %{$trk->first_mem}; $t },
		rss_last_kb => eval { my $t = 0; $t += $_->{rss_kb} for values %mem; $t },
		metrics_e2e => hist_quantiles($metrics, 'processor_end_to_end_latency_seconds'),
		metrics_available => defined $metrics ? 1 : 0,
	};
}

# --- codec -------------------------------------------------------------------------------

# ns/record (tools/bench/bench-codec over tools/gen payloads), the same for iomap_render over
# the bags it wrote and, if valgrind is there, instructions/record (callgrind, collecting only
# inside codec_decode).
sub codec
{
	my ($env, %o) = @_;
	my $b = Harness::builddir();
	my $file = "$env->{dir}/payloads.txt";
	my ($rc, $out, $err) = Harness::run_cmd(['sh', '-c',
	    "'$b/tools/gen' -q -o -n " . ($o{records} // 20000) . " -d 1000 -S 1"
	    . ($o{shape} ? " -k $o{shape}" : '') . " > '$file'"]);
	die "gen -o failed: $err\n" if $rc;
	# -m: also time iomap_render (the decoded column) with the shipped dictionary
	($rc, $out, $err) = Harness::run_cmd(["$b/tools/bench/bench-codec", '-f', $file,
	    '-i', $o{iterations} // 20, '-m', Harness::srcdir() . '/data/io/teltonika.tsv'],
	    timeout => 600);
	die "bench-codec failed: $err\n" if $rc;
	my $res = JSON::PP::decode_json((grep { /^\{/ } split /\n/, $out)[0]);
	if (my $vg = Harness::which('valgrind')) {
		my $cg = "$env->{dir}/callgrind.out";
		my $n = $o{callgrind_records} // 2000;
		($rc, $out, $err) = Harness::run_cmd([$vg, '--tool=callgrind',
		    "--callgrind-out-file=$cg", '--toggle-collect=codec_decode',
		    "$b/tools/bench/bench-codec", '-f', $file, '-n', $n, '-i', 1, '-w'],
		    timeout => 600);
		my ($ir) = $err =~ /Collected\s*:\s*(\d+)/;
		my $j = eval { JSON::PP::decode_json((grep { /^\{/ } split /\n/, $out)[0]) };
		if ($rc == 0 && $ir && $j) {
			$res->{callgrind_records} = $j->{decoded};
			$res->{instructions_per_record} = $ir / $j->{decoded};
			my (undef, $txt) = Harness::run_cmd(['sh', '-c',
			    "callgrind_annotate '$cg' 2>/dev/null | grep -E '^ *[0-9,]+ \\(' | head -12"]);
			$res->{callgrind_top} = [map { s/^\s+//r } split /\n/, $txt];
		}
	}
	return $res;
}

1;
