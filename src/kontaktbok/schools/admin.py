"""The technical Django admin (superusers only). Schools use the app's own pages."""

from django.contrib import admin

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


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0
    raw_id_fields = ("group",)


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("name", "org_number")


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("name", "municipality", "org_number")


@admin.register(AbsenceType)
class AbsenceTypeAdmin(admin.ModelAdmin):
    list_display = ("name_nn", "school", "active", "position")
    list_filter = ("school",)


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ("name", "school", "starts_on", "ends_on")
    inlines = [HolidayInline]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "school", "school_year", "kind", "grade")
    list_filter = ("school", "kind")
    filter_horizontal = ("pupils",)


@admin.register(Pupil)
class PupilAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "school", "protected_address")
    list_filter = ("school", "protected_address")
    search_fields = ("first_name", "last_name")


@admin.register(Guardianship)
class GuardianshipAdmin(admin.ModelAdmin):
    list_display = ("guardian", "pupil", "parental_responsibility", "restricted")
    raw_id_fields = ("guardian", "pupil")


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "school", "title", "work_phone")
    raw_id_fields = ("user",)
    inlines = [StaffRoleInline]
