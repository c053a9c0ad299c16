/** The channels this deployment can use, from its configuration: SMS and e-mail only when set up. */
import type { Config } from '../../config.js'
import type { Channel, ChannelName } from './channel.js'
import { createEmailChannel } from './email.js'
import { createAliyunSms } from './sms-aliyun.js'
import { createWebhookChannel } from './webhook.js'
import { createWebPushChannel } from './webpush.js'

export function channelsFromConfig(config: Config, vapid: { publicKey: string; privateKey: string }): Partial<Record<ChannelName, Channel>> {
  const channels: Partial<Record<ChannelName, Channel>> = {
    webhook: createWebhookChannel(),
    webpush: createWebPushChannel({ vapid: { subject: config.ANJU_VAPID_SUBJECT, ...vapid }, services: config.ANJU_PUSH_SERVICES }),
  }
  const { ANJU_SMS_ALIYUN_ACCESS_KEY_ID: id, ANJU_SMS_ALIYUN_ACCESS_KEY_SECRET: secret, ANJU_SMS_ALIYUN_SIGN_NAME: sign, ANJU_SMS_ALIYUN_TEMPLATE_CODE: template } = config
  if (id && secret && sign && template) {
    channels.sms = createAliyunSms({ endpoint: config.ANJU_SMS_ALIYUN_ENDPOINT, accessKeyId: id, accessKeySecret: secret, signName: sign, templateCode: template })
  }
  if (config.ANJU_SMTP_URL) channels.email = createEmailChannel({ smtpUrl: config.ANJU_SMTP_URL, from: config.ANJU_SMTP_FROM })
  return channels
}
