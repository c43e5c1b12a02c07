-- One database per service that owns data (docker-compose mounts this into /docker-entrypoint-initdb.d).
CREATE DATABASE github_service;
CREATE DATABASE jira_service;
CREATE DATABASE slack_service;
CREATE DATABASE sentry_service;
CREATE DATABASE dashboard;
