from lbsup.testing.personas import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_it_requires_login(client, personas):
    response = client.get("/w/bright-smile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_lists_the_workspace_tickets(client, personas):
    login(client, personas.alice)
    response = client.get("/w/bright-smile/")
    assert response.status_code == 200
    assert b"Move my cleaning" in response.content
    assert b"NW-104522" not in response.content


def test_it_shows_a_teammate_the_same_ticket(client, personas):
    login(client, personas.bob)
    response = client.get(f"/w/bright-smile/tickets/{personas.dental_ticket.number}/")
    assert response.status_code == 200
    assert b"next Tuesday after 3pm" in response.content


def test_it_hides_another_workspace_from_an_outsider(client, personas):
    login(client, personas.charlie)
    assert client.get("/w/bright-smile/").status_code == 404
    assert client.get(f"/w/bright-smile/tickets/{personas.dental_ticket.number}/").status_code == 404


def test_it_answers_404_for_a_foreign_ticket_number_in_your_own_workspace_url(client, personas):
    # charlie's own workspace has ticket 1, but bright-smile's ticket 1 must not leak through it
    login(client, personas.charlie)
    response = client.get(f"/w/northwind/tickets/{personas.shop_ticket.number}/")
    assert response.status_code == 200
    assert b"Move my cleaning" not in response.content
    assert client.get("/w/northwind/tickets/999/").status_code == 404


def test_it_shows_only_my_workspaces_in_the_switcher(client, personas):
    login(client, personas.charlie)
    response = client.get("/w/northwind/")
    assert b"Northwind Goods" in response.content
    assert b"Bright Smile Dental" not in response.content
    login(client, personas.alice)
    response = client.get("/w/bright-smile/")
    assert b"Northwind Goods" not in response.content


def test_it_keeps_owners_out_of_the_desk(client, personas):
    login(client, personas.olivia)
    assert client.get("/w/bright-smile/").status_code == 403
    assert client.get(f"/w/bright-smile/tickets/{personas.dental_ticket.number}/").status_code == 403
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0].startswith("/w/bright-smile/reports/")
    assert home.status_code == 200
    assert b"Bright Smile Dental" in home.content


def test_it_filters_by_status(client, personas):
    login(client, personas.alice)
    response = client.get("/w/bright-smile/?status=closed")
    assert b"Move my cleaning" not in response.content
    response = client.get("/w/bright-smile/?status=new")
    assert b"Move my cleaning" in response.content


def test_it_shows_the_ticket_history(client, personas):
    login(client, personas.lena)
    response = client.get(f"/w/bright-smile/tickets/{personas.dental_ticket.number}/")
    assert b"ticket.created" in response.content
