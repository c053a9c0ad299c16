import { createApp } from 'vue'
import { makeI18n } from '../shared/i18n'
import Visitor from './Visitor.vue'
import './visitor.css'

createApp(Visitor).use(makeI18n()).mount('#app')
