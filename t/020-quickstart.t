#!/usr/bin/perl
# scripts/quickstart --keep, then scripts/quickstart stop, from a tree below a
# directory the postgres user cannot enter (as /root is): every process the
# run started must be gone afterwards, and the metrics shown without a false
# "no metrics answer" line.
#
# Root only: the case is the one where the cluster runs as user postgres.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'must run as root (the case under test is a cluster owned by user postgres)'
    unless $> == 0;
plan skip_all => 'no user postgres (install postgresql)' unless defined getpwnam('postgres');
for my $tool (qw(redis-server redis-cli psql curl runuser)) {
	plan skip_all => "$tool not installed"
	    unless system("command -v $tool >/dev/null 2>&1") == 0;
}
plan skip_all => 'PostgreSQL server binaries not found'
    unless glob('/usr/lib/postgresql/*/bin/pg_ctl');

my $src = $ENV{PROCESSOR_SRCDIR} // dirname(dirname(abs_path($0)));
my $build = $ENV{PROCESSOR_BUILDDIR} // "$src/build";
plan skip_all => "no configured build tree at $build (set PROCESSOR_BUILDDIR)"
    unless -f "$build/Makefile";

# $outer is 0700 root: user postgres cannot enter it or anything below.
my $outer = tempdir('processor-qs.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0700, $outer or die "chmod $outer: $!";
my $tree = "$outer/tree";
make_path("$tree/scripts");
copy("$src/scripts/quickstart", "$tree/scripts/quickstart") or die "copy quickstart: $!";
chmod 0755, "$tree/scripts/quickstart";
# The quickstart builds in ./build; reuse the suite's (make finds it up to date).
symlink($build, "$tree/build") or die "symlink build: $!";
# The migrations come from the tree's sql/ (PROCESSOR_SQL_DIR): no path is compiled in.
symlink("$src/sql", "$tree/sql") or die "symlink sql: $!";
# ... and the sample event's loader and the IO dictionary, from the source tree.
symlink("$src/$_", "$tree/$_") or die "symlink $_: $!" for qw(tools data);
my $run = "$tree/run";

# A pid is alive if it exists and is not a zombie.
sub alive {
	my ($pid) = @_;
	return 0 unless defined $pid && $pid =~ /^\d+$/;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh> // '';
	return $stat !~ /^\d+ \(.*\) Z /;
}

sub first_line {
	my ($file) = @_;
	open(my $fh, '<', $file) or return undef;
	my $l = <$fh>;
	chomp $l if defined $l;
	return $l;
}

# Processes whose command line names the test tree or the cluster directory.
sub leftovers {
	my @dirs = grep { defined } @_;
	my @found;
	for my $d (glob('/proc/[0-9]*')) {
		my ($pid) = $d =~ m{(\d+)$};
		next if $pid == $$ || !alive($pid);
		open(my $fh, '<', "$d/cmdline") or next;
		local $/;
		my $cmd = <$fh> // '';
		$cmd =~ tr/\0/ /;
		push @found, "$pid $cmd" if grep { index($cmd, $_) >= 0 } @dirs;
	}
	return @found;
}

my (%pids, $pgdir);
END {
	local $?;
	# Whatever happened, leave nothing running.
	kill 'KILL', grep { alive($_) } values %pids;
	remove_tree($pgdir) if $pgdir && $pgdir =~ m{^/tmp/processor-quickstart-pg-};
}

my $t0 = time;
my $out = `cd / && NO_DEPS=1 RECORDS=300 DEVICES=5 WORKERS=2 timeout 300 '$tree/scripts/quickstart' --keep 2>&1`;
my $rc = $? >> 8;
is($rc, 0, 'quickstart --keep succeeds') or diag($out);
note(sprintf('quickstart --keep took %ds', time - $t0));
like($out, qr/^processor_\w+/m, 'metrics are shown');
unlike($out, qr/no metrics answer/, 'no false "no metrics answer" line after the metrics')
    or diag($out);

$pgdir = readlink("$run/pg");
ok(defined $pgdir, 'the cluster sits outside the 0700 tree (run/pg is a link)')
    or diag("run/pg is not a link: the postgres user could enter $run?");
%pids = (
	processor => first_line("$run/processor.pid"),
	redis => first_line("$run/redis/redis.pid"),
	postgres => first_line("$run/pg/data/postmaster.pid"),
);
for my $name (sort keys %pids) {
	ok(alive($pids{$name}), "$name is running after --keep") or diag("pid " . ($pids{$name} // 'none'));
}

$out = `cd / && timeout 120 '$tree/scripts/quickstart' stop 2>&1`;
$rc = $? >> 8;
is($rc, 0, 'quickstart stop succeeds') or diag($out);
like($out, qr/^stopped$/m, 'quickstart stop says "stopped"');
unlike($out, qr/Permission denied|could not access directory|could not change directory/,
    'pg_ctl stop runs where the postgres user can go') or diag($out);
for my $name (sort keys %pids) {
	ok(!alive($pids{$name}), "$name (pid " . ($pids{$name} // '?') . ") is gone after stop");
}
my @left = leftovers($tree, $pgdir);
is(scalar @left, 0, 'no process of the run is left') or diag(join("\n", @left));

# A second stop has nothing to do and says so without failing.
$out = `cd / && timeout 60 '$tree/scripts/quickstart' stop 2>&1`;
is($? >> 8, 0, 'a second stop succeeds') or diag($out);

done_testing();
