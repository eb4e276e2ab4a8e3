from members.models import Member, Purpose


def test_purposes_exist(db):
    assert set(Purpose.objects.values_list("code", flat=True)) == {
        "credit",
        "marketing_own",
        "marketing_partner",
        "research",
        "bureau",
    }
    assert Member.objects.count() == 0
