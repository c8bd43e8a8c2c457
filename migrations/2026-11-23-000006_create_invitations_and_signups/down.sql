DROP TABLE signup_requests;
DROP TABLE invitations;
