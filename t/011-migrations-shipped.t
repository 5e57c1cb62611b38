#!/usr/bin/perl
# A migration that has shipped never changes: the master refuses a database whose recorded
# checksum differs from the file on disk (processor(8), "Schema migrations"), so an edited
# shipped migration stops every upgraded installation. t/migrations.shipped records each
# shipped file's checksum (FNV-1a 64, as src/master/migrate_files.c computes it); a change
# to the schema goes into a new file. Append a line there when a new migration first lands.
use strict;
use warnings;
use Test::More;
use FindBin;

my $top = "$FindBin::Bin/..";

# FNV-1a 64 in two 32-bit halves (no 64-bit overflow in Perl arithmetic).
sub fnv1a64
{
	my ($data) = @_;
	my ($hi, $lo) = (0xcbf29ce4, 0x84222325);
	for my $c (unpack('C*', $data)) {
		$lo ^= $c;
		# h * (2^40 + 0x1b3) mod 2^64
		my $l = $lo * 0x1b3;
		my $h = $hi * 0x1b3 + ($l >> 32) + (($lo << 8) & 0xffffffff);
		($hi, $lo) = ($h & 0xffffffff, $l & 0xffffffff);
	}
	return sprintf('fnv1a64:%08x%08x', $hi, $lo);
}

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	return scalar <$fh>;
}

# The value t/unit/core.c pins for the C implementation.
is(fnv1a64('select 1;'), 'fnv1a64:6be44a1ac7ee378b', 'the checksum as the master computes it');

my (%shipped, $newest);
for (split /\n/, slurp("$top/t/migrations.shipped")) {
	next if /^\s*(#|$)/;
	my ($name, $sum) = split;
	$shipped{$name} = $sum;
	$newest = $name if !defined $newest || $name gt $newest;
}
ok(scalar(keys %shipped) >= 6, 'the list names the shipped migrations');

for my $name (sort keys %shipped) {
	my $path = "$top/sql/$name";
	ok(-f $path, "$name still exists") or next;
	is(fnv1a64(slurp($path)), $shipped{$name}, "$name unchanged since it shipped")
	    or diag("sql/$name differs from the text databases recorded when it was applied: "
	    . 'restore it and put the change in a new migration');
}

opendir(my $dh, "$top/sql") or die "sql: $!";
my @disk = sort grep { /^\d{4}_.*\.sql$/ } readdir $dh;
closedir $dh;
for my $name (grep { !exists $shipped{$_} } @disk) {
	ok($name gt $newest, "$name (not shipped yet) comes after the newest shipped, $newest");
}
done_testing;
