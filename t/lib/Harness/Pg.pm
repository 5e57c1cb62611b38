# Throwaway PostgreSQL cluster (initdb, trust, fsync off) on a random loopback port.
package Harness::Pg;

=head1 NAME

Harness::Pg - a PostgreSQL cluster of the test's own

=head1 METHODS

=over

=item Harness::Pg->start(conf => { name => value }, dbname => 'processor', timeout => 60, timescale => 0)

initdb -A trust -N -U postgres into a temp dir, appends port, listen_addresses='127.0.0.1',
unix_socket_directories = the temp dir, fsync=off (plus conf), pg_ctl -w -l pg.log start,
creates the database.  As root, initdb refuses to run, so the cluster belongs to the
unprivileged system user processor-test ($PROCESSOR_TEST_PG_USER), created with useradd -r
if missing, and the tools run under runuser.

With timescale => 1 the cluster preloads TimescaleDB (shared_preload_libraries = timescaledb,
timescaledb.telemetry_level = off), so CREATE EXTENSION timescaledb works in it; start dies
with Harness::timescale_available's reason when TimescaleDB is not installed (and cannot be
built: see there).  timescale defaults to $PROCESSOR_TEST_TIMESCALE (1: every cluster of
every test preloads it; Harness::Processor then sets [postgres] hypertable = on, so the
tests run against positions as a hypertable).  The extension itself is not created: the
processor's migration does that.

=item $pg->timescale

True when the cluster preloads TimescaleDB.

=item $pg->port, $pg->url, $pg->dir, $pg->datadir, $pg->log_path, $pg->pid, $pg->running

url is postgresql://postgres@127.0.0.1:PORT/processor.

=item $pg->psql(SQL, db => NAME, timeout => 60)

psql -XAtq -v ON_ERROR_STOP=1 over TCP; returns stdout chomped (rows joined by newline,
fields by '|').  Dies with psql's stderr on failure.

=item $pg->psql_result(SQL, ...)

Same, never dies: returns (exit code, stdout, stderr).

=item $pg->stop(MODE), $pg->start, $pg->restart(MODE), $pg->kill9

pg_ctl stop -m MODE (fast, default, or immediate; smart works too); start again on the same
port and data dir; stop + start; SIGKILL the postmaster (and wait for its children to go).

=item $pg->kill_stop, $pg->kill_cont

SIGSTOP / SIGCONT the postmaster and all its children (a "paused" database: connections
hang rather than fail).  Cleanup resumes a paused cluster before stopping it.

=item $pg->backend_pids

Pids of the postmaster's children (backends and auxiliary processes).

=item $pg->slow_writes(SECONDS)

Every statement that inserts into positions (COPY or INSERT) sleeps SECONDS in an AFTER
statement trigger (`slow`), so batches are slow and workers hold entries for that long;
slow_writes(0) drops the trigger.  positions must exist (processor has migrated).

=back

=cut

use strict;
use warnings;
use Fcntl qw(:flock);
use Time::HiRes qw(time sleep);

sub start
{
	my ($class, %o) = @_;
	if (ref $class) {
		$class->_pg_ctl_start;
		return $class;
	}
	my $self = bless {
		%o,
		dbname => $o{dbname} // 'processor',
		timeout => $o{timeout} // 60,
		bindir => Harness::pg_bindir() // die("PostgreSQL binaries not found\n"),
	}, $class;
	$self->{timescale} = exists $o{timescale} ? ($o{timescale} ? 1 : 0) : Harness::timescale_env();
	if ($self->{timescale}) {
		my ($ok, $why) = Harness::timescale_available();
		die "Harness::Pg: TimescaleDB requested"
		    . (exists $o{timescale} ? '' : ' (PROCESSOR_TEST_TIMESCALE)') . " but $why\n"
		    unless $ok;
	}
	$self->{user} = $> == 0 ? _ensure_user() : undef;
	$self->{dir} = $self->_make_dir;
	$self->{datadir} = "$self->{dir}/data";
	$self->{log_path} = "$self->{dir}/pg.log";
	$self->{port} = $o{port} // Harness::free_port();
	Harness::register($self);

	my ($rc, $out, $err) = $self->_run_as(["$self->{bindir}/initdb", '-D', $self->{datadir},
	    '-A', 'trust', '-N', '-U', 'postgres', '-E', 'UTF8', '--locale=C'], timeout => 120);
	die "initdb failed (rc $rc):\n$out$err\n" if $rc != 0;

	my %conf = (
		port => $self->{port},
		listen_addresses => "'127.0.0.1'",
		unix_socket_directories => "'$self->{dir}'",
		fsync => 'off',
		full_page_writes => 'off',
		synchronous_commit => 'off',
		max_connections => 60,
		shared_buffers => "'32MB'",
		log_line_prefix => "'%m [%p] %q%u@%d '",
		log_min_messages => 'warning',
		lc_messages => "'C'",
		($self->{timescale} ? (shared_preload_libraries => "'timescaledb'",
		    'timescaledb.telemetry_level' => 'off') : ()),
		%{$self->{conf} // {}},
	);
	open(my $fh, '>>', "$self->{datadir}/postgresql.conf") or die "postgresql.conf: $!";
	print $fh "\n# added by t/lib/Harness/Pg.pm\n";
	print $fh "$_ = $conf{$_}\n" for sort keys %conf;
	close $fh;

	$self->_pg_ctl_start;
	$self->psql("create database \"$self->{dbname}\"", db => 'postgres')
	    unless $self->{dbname} eq 'postgres';
	return $self;
}

# The unprivileged owner of test clusters when we run as root.
sub _ensure_user
{
	my $user = $Harness::PG_USER;
	return $user if defined getpwnam($user);
	my $lockf = '/tmp/processor-test-useradd.lock';
	open(my $lk, '>>', $lockf) or die "$lockf: $!";
	flock($lk, LOCK_EX);
	if (!defined getpwnam($user)) {
		my ($rc, $out, $err) = Harness::run_cmd(['useradd', '-r', '-M', '-d', '/nonexistent',
		    '-s', '/usr/sbin/nologin', '-c', 'processor test clusters', $user]);
		die "useradd $user failed: $err\n" if $rc != 0 && !defined getpwnam($user);
	}
	close $lk;
	return $user;
}

# True if every directory on the way to $path lets others search it.
sub _reachable
{
	my ($path) = @_;
	my $p = '';
	for my $c (grep { length } split m{/}, $path) {
		$p .= "/$c";
		my @st = stat $p or return 0;
		return 0 unless $st[2] & 01;
	}
	return 1;
}

sub _make_dir
{
	my ($self) = @_;
	my $dir = Harness::tmpdir('pg');
	return $dir unless $self->{user};
	if (!_reachable(Harness::tmproot())) {
		# $TMPDIR under a private home: give the cluster its own dir under /tmp,
		# removed with the rest by _cleanup.
		rmdir $dir;
		$dir = File::Temp::tempdir('processor-test-pg-XXXXXX', DIR => '/tmp', CLEANUP => 0);
		$self->{own_dir} = 1;
	}
	my ($uid, $gid) = (getpwnam($self->{user}))[2, 3];
	chown $uid, $gid, $dir or die "chown $dir: $!";
	chmod 0700, $dir;
	return $dir;
}

sub _run_as
{
	my ($self, $cmd, %o) = @_;
	my @cmd = $self->{user} ? ('runuser', '-u', $self->{user}, '--', @$cmd) : @$cmd;
	return Harness::run_cmd(\@cmd, %o, env => { LC_ALL => 'C', PGDATA => undef });
}

sub _read_pid
{
	my ($self) = @_;
	open(my $fh, '<', "$self->{datadir}/postmaster.pid") or return undef;
	my $pid = <$fh>;
	close $fh;
	chomp $pid if defined $pid;
	return $pid && $pid =~ /^\d+$/ ? $pid : undef;
}

sub _pg_ctl_start
{
	my ($self) = @_;
	die "postgres already running (pid $self->{pid})\n" if $self->running;
	my ($rc, $out, $err) = $self->_run_as(["$self->{bindir}/pg_ctl", '-D', $self->{datadir},
	    '-l', $self->{log_path}, '-w', '-t', $self->{timeout}, 'start'],
	    timeout => $self->{timeout} + 10);
	$self->{pid} = $self->_read_pid;
	die "pg_ctl start failed (rc $rc):\n$out$err\n" . Harness::tail($self->{log_path}, 20) . "\n"
	    if $rc != 0;
}

sub timescale { $_[0]{timescale} ? 1 : 0 }
sub port { $_[0]{port} }
sub dir { $_[0]{dir} }
sub datadir { $_[0]{datadir} }
sub log_path { $_[0]{log_path} }
sub pid { $_[0]{pid} }
sub dbname { $_[0]{dbname} }
sub url { "postgresql://postgres\@127.0.0.1:$_[0]{port}/$_[0]{dbname}" }
sub running { my $p = $_[0]{pid}; $p && Harness::pid_alive($p) ? 1 : 0 }

sub psql_result
{
	my ($self, $sql, %o) = @_;
	my $psql = Harness::which('psql') or die "psql not found\n";
	return Harness::run_cmd([$psql, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1',
	    '-p', $self->{port}, '-U', 'postgres', '-d', $o{db} // $self->{dbname}, '-f', '-'],
	    stdin => $sql, timeout => $o{timeout} // 60,
	    env => { PGCONNECT_TIMEOUT => 10, PGOPTIONS => undef, PGSERVICE => undef,
	    PGPASSWORD => undef, PGHOST => undef, PGDATABASE => undef, PGUSER => undef,
	    PGTZ => 'UTC', PGAPPNAME => 'harness' });
}

sub psql
{
	my ($self, $sql, %o) = @_;
	my ($rc, $out, $err) = $self->psql_result($sql, %o);
	die "psql failed (rc $rc): $err\nSQL: $sql\n" if $rc != 0;
	chomp $out;
	return $out;
}

sub backend_pids
{
	my ($self) = @_;
	return () unless $self->{pid};
	return Harness::children_of($self->{pid});
}

sub stop
{
	my ($self, $mode) = @_;
	$mode //= 'fast';
	return 0 unless $self->running;
	$self->kill_cont if $self->{paused};
	my ($rc, $out, $err) = $self->_run_as(["$self->{bindir}/pg_ctl", '-D', $self->{datadir},
	    '-m', $mode, '-w', '-t', $self->{timeout}, 'stop'], timeout => $self->{timeout} + 10);
	die "pg_ctl stop -m $mode failed (rc $rc): $out$err\n" if $rc != 0;
	Harness::wait_pid_gone($self->{pid}, 10);
	delete $self->{pid};
	return 1;
}

sub restart
{
	my ($self, $mode) = @_;
	$self->stop($mode);
	$self->_pg_ctl_start;
	return $self;
}

sub kill9
{
	my ($self) = @_;
	my $pid = $self->{pid} or return 0;
	my @kids = Harness::descendants_of($pid);
	$self->kill_cont if $self->{paused};
	kill 'KILL', $pid;
	Harness::wait_pid_gone($pid, 10);
	# Backends notice the postmaster's death and exit; a new postmaster cannot start
	# while they still hold the shared memory.
	Harness::wait_until(sub { !grep { Harness::pid_alive($_) } @kids },
	    timeout => 10, desc => 'postgres children exit after postmaster SIGKILL')
	    or kill 'KILL', @kids;
	delete $self->{pid};
	return 1;
}

sub kill_stop
{
	my ($self) = @_;
	my $pid = $self->{pid} or die "postgres not running\n";
	kill 'STOP', $pid;	# first, so it forks nothing new
	kill 'STOP', Harness::descendants_of($pid);
	$self->{paused} = 1;
	return 1;
}

sub kill_cont
{
	my ($self) = @_;
	my $pid = $self->{pid} or return 0;
	kill 'CONT', Harness::descendants_of($pid);
	kill 'CONT', $pid;
	$self->{paused} = 0;
	return 1;
}

sub slow_writes
{
	my ($self, $s) = @_;
	return $self->psql('drop trigger slow on positions') unless $s;
	return $self->psql(qq{create or replace function slow_batch() returns trigger
	    language plpgsql as \$\$ begin perform pg_sleep($s); return null; end \$\$;
	    create or replace trigger slow after insert on positions for each statement
	    execute function slow_batch();});
}

sub _cleanup
{
	my ($self, $failed) = @_;
	if (my $pid = $self->{pid}) {
		my @kids = Harness::descendants_of($pid);
		$self->kill_cont if $self->{paused};
		kill 'QUIT', $pid;	# immediate shutdown
		if (!defined Harness::wait_pid_gone($pid, 10)) {
			kill 'KILL', $pid;
			Harness::wait_pid_gone($pid, 5);
		}
		Harness::wait_until(sub { !grep { Harness::pid_alive($_) } @kids },
		    timeout => 5, interval => 0.02) or kill 'KILL', @kids;
		delete $self->{pid};
	}
	if ($failed && -e $self->{log_path}) {
		Test::More::diag("--- tail of $self->{log_path}\n" . Harness::tail($self->{log_path}, 30));
	}
	if ($self->{own_dir}) {
		if ($failed) {
			Test::More::diag("kept PostgreSQL dir $self->{dir}");
		} else {
			File::Path::rmtree($self->{dir});
		}
	}
}

1;
