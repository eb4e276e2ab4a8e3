"""``{% load bureaus %}{% member_registrations member %}``: the member's bureau registrations."""

from django import template

from bureaus.selectors import registrations_for_member

register = template.Library()


@register.inclusion_tag("bureaus/member_registrations.html")
def member_registrations(member):
    return {"registrations": list(registrations_for_member(member))}
