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
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempfile);
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my $top = Harness::srcdir();
my ($fh, $fixed) = tempfile('processor-checksum.XXXXXX', TMPDIR => 1, UNLINK => 1);
print $fh 'select 1;';
close $fh;
# The value t/unit/core.c pins for the C implementation.
is(Harness::migration_checksum($fixed), 'fnv1a64:6be44a1ac7ee378b',
    'the checksum as the master computes it');

my $shipped = Harness::shipped_migrations();
my ($newest) = reverse sort keys %$shipped;
ok(scalar(keys %$shipped) >= 6, 'the list names the released migrations');

for my $name (sort keys %$shipped) {
	my $path = "$top/sql/$name";
	ok(-f $path, "$name still exists") or next;
	is(Harness::migration_checksum($path), $shipped->{$name}, "$name unchanged since it shipped")
	    or diag("sql/$name differs from the text databases recorded when it was applied: "
	    . 'restore it and put the change in a new migration');
}

for my $name (grep { !exists $shipped->{$_} } Harness::migration_files()) {
	ok($name gt $newest, "$name (not shipped yet) comes after the newest shipped, $newest");
}
done_testing;
