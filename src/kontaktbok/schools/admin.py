"""The technical Django admin (superusers only). Schools use the app's own pages.

Pupils, guardianships, groups' pupils, staff and their roles are read-only here: they change
only through the services, which audit the change and drop cached roles. The rest is
audited when a superuser changes it."""

from django.contrib import admin

from kontaktbok.core.admin import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline
from kontaktbok.schools.models import (
    AbsenceType,
    Group,
    Guardianship,
    Holiday,
    Municipality,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    StaffRole,
)


class HolidayInline(admin.TabularInline):  # saved with its school year, audited there
    model = Holiday
    extra = 0


class StaffRoleInline(ReadOnlyInline):
    model = StaffRole
    fields = ("role", "group", "starts_on", "ends_on")


@admin.register(Municipality)
class MunicipalityAdmin(AuditedAdmin):
    list_display = ("name", "org_number")


@admin.register(School)
class SchoolAdmin(AuditedAdmin):
    list_display = ("name", "municipality", "org_number")


@admin.register(AbsenceType)
class AbsenceTypeAdmin(AuditedAdmin):
    list_display = ("name_nn", "school", "active", "position")
    list_filter = ("school",)


@admin.register(SchoolYear)
class SchoolYearAdmin(AuditedAdmin):
    list_display = ("name", "school", "starts_on", "ends_on")
    inlines = [HolidayInline]


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "school", "school_year", "kind", "grade")
    list_filter = ("school", "kind")


@admin.register(Pupil)
class PupilAdmin(ReadOnlyAdmin):
    list_display = ("last_name", "first_name", "school", "protected_address")
    list_filter = ("school", "protected_address")
    search_fields = ("first_name", "last_name")


@admin.register(Guardianship)
class GuardianshipAdmin(ReadOnlyAdmin):
    list_display = ("guardian", "pupil", "parental_responsibility", "restricted")
    raw_id_fields = ("guardian", "pupil")


@admin.register(StaffMember)
class StaffMemberAdmin(ReadOnlyAdmin):
    list_display = ("user", "school", "title", "work_phone")
    raw_id_fields = ("user",)
    inlines = [StaffRoleInline]
