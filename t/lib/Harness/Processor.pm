# The daemon under test: generated config, started in the background, log parsed as JSON lines.
package Harness::Processor;

=head1 NAME

Harness::Processor - run src/processor against the test's servers

=head1 METHODS

=over

=item Harness::Processor->start(config => { SECTION => { KEY => VALUE } }, redis => R, pg => PG,
env => { NAME => VALUE }, args => [...], expect_critical => 0, notify => 0, wrapper => [...])

Writes processor.conf (INI) into its temp dir and starts
$PROCESSOR_BUILDDIR/src/processor -c FILE ARGS in its own process group, stdout+stderr
appended to processor.log.  With redis/pg objects the config defaults to their urls
([redis] url, stream telemetry:t, group processor; [postgres] url, and hypertable = on when the
cluster preloads TimescaleDB, see Harness::Pg timescale); [http] listen defaults
to 127.0.0.1:<free port> (give listen => undef to leave it out) and [control] socket to
control.sock in its temp dir.  PROCESSOR_<SECTION>_*, REDIS_URL, POSTGRES_URL and
NOTIFY_SOCKET are removed from the daemon's environment unless given in env.  A VALUE of undef leaves
the key out.  With notify => 1, NOTIFY_SOCKET points at a datagram socket the test reads
(notify_messages, wait_notify).  wrapper (or $PROCESSOR_TEST_WRAPPER, split on spaces) is
prepended to the command, e.g. valgrind.  Returns at once; use wait_ready.

=item $p->pid, $p->dir, $p->log_path, $p->config_path, $p->config, $p->http_port, $p->metrics_url,
$p->control_socket

=item $p->log_lines

All JSON log lines so far, as hash refs (a syslog prefix like <6> is stripped; the priority
is kept as {_prio}).  $p->raw_lines: every line; $p->other_lines: lines that are not JSON.

=item $p->mark

The current number of log lines, for wait_log(..., from => MARK).

=item $p->wait_log(QR | CODE, TIMEOUT = 30, from => MARK, quiet => 0)

Waits for a line matching QR (against the line's JSON text) or for which CODE returns true
(called with the hash ref, also in $_).  Returns the hash ref, or undef (and a diag unless
quiet) on timeout or when the process exited without printing it.

=item $p->wait_ready(TIMEOUT = 30)

wait_log for a line whose message says "ready".

=item $p->signal(SIG), $p->running

=item $p->wait_exit(TIMEOUT = 30)

Waits for the master to exit and reaps it: the exit code, 128+N when killed by signal N,
undef on timeout.  $p->exit_code keeps it.

=item $p->stop(TIMEOUT = 15)

TERM, wait, then KILL the whole process group; returns the exit code; then runs the log
check (one test: no critical lines and no sanitizer reports, unless expect_critical).

=item $p->kill9

SIGKILL the master only (its workers are expected to notice and exit on their own).

=item $p->children, $p->group_pids

Live pids whose parent is the master; live pids of the daemon's process group (the master
and its workers, and any orphan left after the master died).

=item $p->check_log, $p->critical_lines, $p->sanitizer_lines

The log check itself (a test; stop calls it once, cleanup only reports a failure); the
lines it would complain about: critical (or <0>..<2>) JSON lines; ASan/UBSan reports.

=item $p->notify_messages, $p->wait_notify(QR, TIMEOUT)

sd_notify datagrams received so far (strings, oldest first); wait for one matching QR.

=back

=cut

use strict;
use warnings;
use IO::Socket::UNIX;
use JSON::PP ();
use Socket qw(SOCK_DGRAM);
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->utf8->allow_nonref;

sub start
{
	my ($class, %o) = @_;
	my $self = bless {
		%o,
		dir => Harness::tmpdir('processor'),
		lines => [],
		raw => [],
		other => [],
		off => 0,
		partial => '',
		notes => [],
	}, $class;
	$self->{log_path} = "$self->{dir}/processor.log";
	$self->{config_path} = "$self->{dir}/processor.conf";
	$self->{binary} = $o{binary} // Harness::builddir() . '/src/processor';
	die "$self->{binary} not built\n" unless -x $self->{binary};

	my %cfg;
	if (my $r = $o{redis}) {
		$cfg{redis} = { url => $r->url, stream => 'telemetry:t', group => 'processor' };
	}
	if (my $pg = $o{pg}) {
		$cfg{postgres} = { url => $pg->url };
		# A cluster with TimescaleDB: positions must become a hypertable (start-up
		# fails otherwise), not silently stay a plain table as auto would allow.
		$cfg{postgres}{hypertable} = 'on' if $pg->can('timescale') && $pg->timescale;
	}
	my $user = $o{config} // {};
	if (!exists $user->{http} || !exists $user->{http}{listen}) {
		$cfg{http}{listen} = '127.0.0.1:' . Harness::free_port();
	}
	if (!exists $user->{control} || !exists $user->{control}{socket}) {
		$cfg{control}{socket} = "$self->{dir}/control.sock";
	}
	# The suite's synthetic records span 2023..2030: leave the timestamp window off
	# unless a test sets it (undef: the daemon's defaults).
	for my $k (qw(max_future_ms max_past_days)) {
		$cfg{processor}{$k} = 0 unless exists $user->{processor}{$k};
	}
	for my $sec (keys %$user) {
		$cfg{$sec}{$_} = $user->{$sec}{$_} for keys %{$user->{$sec}};
	}
	$self->{config} = \%cfg;
	$self->write_config(\%cfg);
	if (defined(my $l = $cfg{http}{listen})) {
		($self->{http_port}) = $l =~ /:(\d+)$/;
	}

	# The daemon reads PROCESSOR_<SECTION>_<KEY>, REDIS_URL and POSTGRES_URL: keep the
	# caller's environment from overriding the generated config (env => {} sets them).
	my %env = map { $_ => undef } grep {
		/^PROCESSOR_(REDIS|POSTGRES|PROCESSOR|HTTP|CONTROL|DOMAIN)_/ ||
		/^(REDIS_URL|POSTGRES_URL|NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID|LISTEN_FDS|LISTEN_PID|PGSERVICE|PGOPTIONS)$/
	} keys %ENV;
	# Migrations come from the source tree (no build path is compiled in).
	$env{PROCESSOR_SQL_DIR} = Harness::srcdir() . '/sql' unless exists $ENV{PROCESSOR_SQL_DIR};
	$env{PROCESSOR_IO_DIR} = Harness::srcdir() . '/data/io' unless exists $ENV{PROCESSOR_IO_DIR};
	%env = (%env, %{$o{env} // {}});
	if ($o{notify}) {
		my $path = "$self->{dir}/notify.sock";
		$self->{notify} = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path)
		    or die "notify socket $path: $!\n";
		$self->{notify}->blocking(0);
		$env{NOTIFY_SOCKET} = $path;
	}
	my @wrap = @{$o{wrapper} // [split ' ', $ENV{PROCESSOR_TEST_WRAPPER} // '']};
	$self->{pid} = Harness::spawn(
	    cmd => [@wrap, $self->{binary}, '-c', $self->{config_path}, @{$o{args} // []}],
	    log => $self->{log_path}, env => \%env, cwd => $self->{dir}, pgrp => 1);
	$self->{pgid} = $self->{pid};
	Harness::register($self);
	return $self;
}

=over

=item $p->write_config(HASHREF | STRING)

(Re)writes the config file (for reload tests: write, then signal('HUP')).

=back

=cut

sub write_config
{
	my ($self, $cfg) = @_;
	my $text = $cfg;
	if (ref $cfg) {
		$text = "# generated by t/lib/Harness/Processor.pm\n";
		for my $sec (sort keys %$cfg) {
			$text .= "\n[$sec]\n";
			for my $k (sort keys %{$cfg->{$sec}}) {
				my $v = $cfg->{$sec}{$k};
				$text .= "$k = $v\n" if defined $v;
			}
		}
	}
	open(my $fh, '>', "$self->{config_path}.tmp") or die "$self->{config_path}: $!";
	print $fh $text;
	close $fh;
	rename "$self->{config_path}.tmp", $self->{config_path} or die "rename: $!";
}

sub pid { $_[0]{pid} }
sub dir { $_[0]{dir} }
sub log_path { $_[0]{log_path} }
sub config_path { $_[0]{config_path} }
sub config { $_[0]{config} }
sub http_port { $_[0]{http_port} }
sub control_socket { $_[0]{config}{control}{socket} }
sub metrics_url { "http://127.0.0.1:$_[0]{http_port}/metrics" }
sub exit_code { $_[0]{exit_code} }

sub running
{
	my ($self) = @_;
	return 0 if defined $self->{exit_code};
	$self->_reap(0);
	return defined $self->{exit_code} ? 0 : 1;
}

# Parse what the log grew by since last time.
sub _refresh
{
	my ($self) = @_;
	open(my $fh, '<', $self->{log_path}) or return;
	seek($fh, $self->{off}, 0);
	local $/;
	my $new = <$fh> // '';
	close $fh;
	$self->{off} += length $new;
	$new = $self->{partial} . $new;
	my @l = split /\n/, $new, -1;
	$self->{partial} = pop(@l) // '';	# '' when the chunk ended with a newline
	for my $line (@l) {
		push @{$self->{raw}}, $line;
		my $prio;
		(my $body = $line) =~ s/^<(\d)>// and $prio = $1;
		my $obj;
		$obj = eval { $JSON->decode($body) } if $body =~ /^\s*\{/;
		if (ref $obj eq 'HASH') {
			$obj->{_prio} = $prio if defined $prio;
			$obj->{_line} = $body;
			push @{$self->{lines}}, $obj;
		} else {
			push @{$self->{other}}, $line;
		}
	}
}

sub log_lines { my ($s) = @_; $s->_refresh; return @{$s->{lines}} }
sub raw_lines { my ($s) = @_; $s->_refresh; return @{$s->{raw}} }
sub other_lines { my ($s) = @_; $s->_refresh; return @{$s->{other}} }
sub mark { my ($s) = @_; $s->_refresh; return scalar @{$s->{lines}} }

sub _find
{
	my ($self, $what, $from) = @_;
	$self->_refresh;
	my $lines = $self->{lines};
	for my $i ($from .. $#$lines) {
		my $l = $lines->[$i];
		if (ref $what eq 'CODE') {
			local $_ = $l;
			return $l if $what->($l);
		} elsif ($l->{_line} =~ $what) {
			return $l;
		}
	}
	return undef;
}

sub wait_log
{
	my ($self, $what, $timeout, %o) = @_;
	my $from = $o{from} // 0;
	my $deadline = time + ($timeout // 30);
	while (1) {
		my $l = $self->_find($what, $from);
		return $l if $l;
		if (!$self->running) {
			# It may have written the line just before exiting.
			return $self->_find($what, $from);
		}
		last if time >= $deadline;
		sleep 0.05;
	}
	return undef if $o{quiet};
	Test::More::diag("wait_log: no line matching $what after ${\($timeout // 30)}s");
	return undef;
}

# wait_event(FIELD => VALUE, ..., timeout => S, from => MARK): the first log line whose
# fields all match (VALUE a string compared with eq, or a qr//), as wait_log.  Lines carry
# fields such as worker, pid, event, entry, sqlstate, batch_size, duration_s.
sub wait_event
{
	my ($self, %want) = @_;
	my $timeout = delete $want{timeout};
	my $from = delete $want{from};
	my $match = sub {
		my ($l) = @_;
		for my $k (keys %want) {
			my $v = $l->{$k};
			return 0 unless defined $v;
			if (ref $want{$k} eq 'Regexp') {
				return 0 unless $v =~ $want{$k};
			} else {
				return 0 unless $v eq $want{$k};
			}
		}
		return 1;
	};
	return $self->wait_log($match, $timeout, from => $from // 0);
}

sub wait_ready
{
	my ($self, $timeout) = @_;
	return $self->wait_log(sub { ($_->{message} // '') =~ /\bready\b/i }, $timeout);
}

sub signal
{
	my ($self, $sig) = @_;
	return 0 unless $self->{pid} && !defined $self->{exit_code};
	return kill $sig, $self->{pid};
}

sub _reap
{
	my ($self, $timeout) = @_;
	return $self->{exit_code} if defined $self->{exit_code};
	my $pid = $self->{pid} or return undef;
	my $st;
	if ($timeout) {
		$st = Harness::wait_pid_gone($pid, $timeout);
	} else {
		my $r = waitpid($pid, POSIX::WNOHANG());
		$st = $? if $r == $pid;
		$st = 0 if $r == -1;	# already reaped elsewhere
	}
	return undef unless defined $st;
	$self->{exit_status} = $st;
	$self->{exit_code} = Harness::decode_status($st);
	return $self->{exit_code};
}

sub wait_exit
{
	my ($self, $timeout) = @_;
	return $self->_reap($timeout // 30);
}

sub children
{
	my ($self) = @_;
	return () if defined $self->{exit_code};
	return Harness::children_of($self->{pid});
}

sub group_pids
{
	my ($self) = @_;
	return Harness::group_members($self->{pgid});
}

sub kill9
{
	my ($self) = @_;
	$self->signal('KILL');
	return $self->_reap(10);
}

sub _kill_group
{
	my ($self) = @_;
	my @left = $self->group_pids;
	return 0 unless @left;
	kill 'KILL', -$self->{pgid};
	Harness::wait_until(sub { !$self->group_pids }, timeout => 10, interval => 0.02);
	return scalar @left;
}

sub stop
{
	my ($self, $timeout) = @_;
	if (!defined $self->{exit_code}) {
		$self->signal('TERM');
		if (!defined $self->_reap($timeout // 15)) {
			Test::More::diag("processor $self->{pid} ignored TERM for ${\($timeout // 15)}s, killing");
			$self->signal('KILL');
			$self->_reap(10);
		}
	}
	$self->_kill_group;
	$self->check_log unless $self->{log_checked};
	return $self->{exit_code};
}

=over

=item $p->worker_totals

The counters of every "worker N stopped: consumed ..., inserted ..." line so far, summed
over the workers (each worker logs one when it exits): a hash ref such as
{ consumed => 10000, inserted => 9990, duplicates => 10, ... }.

=back

=cut

=over

=item $p->metrics

GET /metrics: a hash ref of series (with labels, as written) to value, or undef when the
endpoint does not answer.

=item $p->readyz

GET /readyz: { status => the HTTP status, reason => the body's "reason" ('' when none),
content => the body }.

=back

=cut

sub metrics
{
	my ($self) = @_;
	require HTTP::Tiny;
	my $res = HTTP::Tiny->new(timeout => 10)->get($self->metrics_url);
	return undef unless $res->{success};
	return { map { /^(\S+) (\S+)$/ ? ($1 => $2) : () } grep { !/^#/ } split /\n/, $res->{content} };
}

sub readyz
{
	my ($self) = @_;
	require HTTP::Tiny;
	my $res = HTTP::Tiny->new(timeout => 10)->get("http://127.0.0.1:$self->{http_port}/readyz");
	my $j = eval { JSON::PP::decode_json($res->{content} // '') } // {};
	return { status => $res->{status}, reason => $j->{reason} // '',
	    content => $res->{content} // '' };
}

=item $p->metric_sum(METRICS, NAME)

The sum of every series of family NAME in a hash from metrics (NAME itself and NAME{...});
undef when there is none.

=cut

sub metric_sum
{
	my ($self, $m, $name) = @_;
	my $s;
	for (keys %{$m // {}}) {
		$s += $m->{$_} if $_ eq $name || index($_, "$name\{") == 0;
	}
	return $s;
}

sub worker_totals
{
	my ($self) = @_;
	my %t;
	for my $l ($self->log_lines) {
		my $m = $l->{message} // '';
		next unless $m =~ /^worker \d+ stopped: consumed/;
		my %kv = $m =~ /([a-z][a-z-]*) (\d+)/g;
		$t{$_} += $kv{$_} for keys %kv;
	}
	delete $t{worker};
	return \%t;
}

sub critical_lines
{
	my ($self) = @_;
	return map { $_->{_line} } grep {
		($_->{level} // '') =~ /^(critical|alert|emergency)$/ ||
		(defined $_->{_prio} && $_->{_prio} <= 2)
	} $self->log_lines;
}

sub sanitizer_lines
{
	my ($self) = @_;
	return grep { /ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:/ }
	    $self->other_lines;
}

sub check_log
{
	my ($self, %o) = @_;
	$self->{log_checked} = 1;
	my @bad = $self->{expect_critical} ? () : $self->critical_lines;
	my @san = $self->sanitizer_lines;
	my $ok = !@bad && !@san;
	return $ok if $o{quiet} && $ok;
	my $name = $self->{expect_critical} ? 'processor log: no sanitizer reports'
	    : 'processor log: no critical lines, no sanitizer reports';
	Test::More::ok($ok, $name) or Test::More::diag(join("\n", 'offending lines:', @bad, @san));
	return $ok;
}

sub notify_messages
{
	my ($self) = @_;
	my $s = $self->{notify} or return ();
	while (defined(my $from = $s->recv(my $buf, 65536, 0))) {
		last unless length $buf;
		push @{$self->{notes}}, $buf;
	}
	return @{$self->{notes}};
}

sub wait_notify
{
	my ($self, $re, $timeout) = @_;
	my $found;
	Harness::wait_until(sub {
		($found) = grep { $_ =~ $re } $self->notify_messages;
		return defined $found;
	}, timeout => $timeout // 30, desc => "sd_notify message matching $re");
	return $found;
}

sub _cleanup
{
	my ($self, $failed) = @_;
	if (!defined $self->{exit_code}) {
		$self->signal('TERM');
		if (!defined $self->_reap(5)) {
			$self->signal('KILL');
			$self->_reap(5);
		}
	}
	$self->_kill_group;
	if (!$self->{log_checked}) {
		# After done_testing a passing check would break the plan: report only failures.
		$failed = 1 unless $self->check_log(quiet => 1);
	}
	if ($failed && -e $self->{log_path}) {
		Test::More::diag("--- tail of $self->{log_path}\n" . Harness::tail($self->{log_path}, 40));
	}
}

1;
