/** Database and message-broker connection strings that carry a password. */
import type { DetectionRule } from '../types.js';
import { notUserEcho } from './define.js';
import { ALNUM, fake } from './fake.js';

const pw = fake(ALNUM, 18, 'db-password') + '%21';

const connection = (id: string, description: string, schemes: string[], host: string): DetectionRule => ({
  id,
  kind: 'secret',
  description,
  keywords: schemes.map((s) => `${s}://`),
  keywordWithin: 0,
  // user:password@ — the password is group 1; a template, env lookup or "password" is allowlisted.
  pattern: new RegExp(
    `(?:${schemes.map((s) => s.replace('+', '\\+')).join('|')})://[^\\s:/?#@"'\`]{0,128}:([^\\s/?#@"'\`]{1,128})@(?=[A-Za-z0-9\\[_-])`,
    'i',
  ),
  secretGroup: 1,
  validate: notUserEcho,
  samples: {
    tp: [
      `${schemes[0]}://app_user:${pw}@${host}`,
      `DATABASE_URL="${schemes.at(-1)}://admin:${fake(ALNUM, 24, id)}@${host}"`,
    ],
    fp: [
      `${schemes[0]}://app_user:password@${host}`,
      `${schemes[0]}://app_user:\${DB_PASSWORD}@${host}`,
      `${schemes[0]}://app_user:changeme@${host}`,
      `${schemes[0]}://app_user:****@${host}`,
      `${schemes[0]}://scott:tiger@${host}`,
      `${schemes[0]}://${schemes[0]}:${schemes[0]}@localhost`,
      `${schemes[0]}://myuser:mypass@localhost/somedatabase`,
      `${schemes[0]}://user:pw@host/db`,
      `${schemes[0]}://${host}`,
    ],
  },
});

export const databaseRules: DetectionRule[] = [
  connection(
    'postgres-connection-string',
    'PostgreSQL URL with a password',
    ['postgres', 'postgresql'],
    'db.internal:5432/app',
  ),
  connection(
    'mysql-connection-string',
    'MySQL / MariaDB URL with a password',
    ['mysql', 'mariadb', 'mysqlx'],
    'mysql.internal:3306/app',
  ),
  connection(
    'mongodb-connection-string',
    'MongoDB URL with a password',
    ['mongodb', 'mongodb+srv'],
    'cluster0.ab1cd.mongodb.net/app',
  ),
  connection(
    'redis-connection-string',
    'Redis URL with a password',
    ['redis', 'rediss'],
    'cache.internal:6379/0',
  ),
  connection(
    'amqp-connection-string',
    'AMQP (RabbitMQ) URL with a password',
    ['amqp', 'amqps'],
    'mq.internal:5672/vhost',
  ),
  connection(
    'mssql-connection-string',
    'SQL Server URL with a password',
    ['mssql', 'sqlserver'],
    'sql.internal:1433',
  ),
];
